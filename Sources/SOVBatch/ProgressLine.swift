import SOVCore
import SOVFrontEnd

/// The progress line of a long run: redrawn in place on stderr when stderr is a terminal, never
/// otherwise (a log file or a pipe gets only the diagnostics and the summary).
///
/// Diagnostics and the progress line share one OutputSink, so they can never interleave: the
/// line is erased (`\r` + erase-line) before any diagnostic is written and redrawn after.
public final class ProgressLine {
    public let enabled: Bool
    private let sink: OutputSink
    private let started: Double
    private var lastDrawn: Double = 0
    private var drawn = false
    /// Runs shorter than this never show a progress line.
    private let delay: Double
    private let minimumInterval = 0.1

    public init(sink: OutputSink, enabled: Bool, delay: Double = 0.5) {
        self.sink = sink
        self.enabled = enabled
        self.delay = delay
        started = FileSystem.monotonicSeconds()
    }

    /// Shows `text` (built only when it will be drawn), at most ten times a second.
    public func update(_ text: @autoclosure () -> String) {
        guard enabled else { return }
        let now = FileSystem.monotonicSeconds()
        guard now - started >= delay, now - lastDrawn >= minimumInterval else { return }
        lastDrawn = now
        var line = text()
        if line.count > 100 { line = String(line.prefix(99)) + "…" }
        try? sink.write("\r\u{1B}[K" + line)
        try? sink.flush()
        drawn = true
    }

    /// Erases the line before something else is written to stderr.
    public func clear() {
        guard drawn else { return }
        try? sink.write("\r\u{1B}[K")
        drawn = false
        lastDrawn = 0
    }

    public func finish() {
        clear()
        try? sink.flush()
    }
}
