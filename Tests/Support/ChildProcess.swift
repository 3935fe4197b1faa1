import Foundation
import SOVCore

#if canImport(Glibc)
import Glibc
#endif

/// The one way the tests run a program: `ChildProcess.run` for a tool run to its end,
/// `ChildProcess(...)` for one the test signals, kills or reads line by line before it ends.
///
/// stdout and stderr are each read on their own thread from the start, and stdin is written on a
/// third, so a child blocked on any one pipe (a megabyte of stderr before any stdout, say) never
/// stalls the others. stdin is /dev/null unless bytes are given: never the test's own stdin.
public final class ChildProcess: @unchecked Sendable {
    // @unchecked: `process` is Foundation's (thread-safe for what is used here); the buffers are
    // locked; `streamed` is touched only by the test's thread.

    /// Where the child's stdout and stderr go.
    public enum Output: Sendable {
        /// Read into memory and handed back by `wait` (the default).
        case collected
        /// Both appended to this file (created empty first), for children whose log is read
        /// only when something went wrong.
        case file(String)
        /// Both to /dev/null.
        case discarded
    }

    /// The child did not end within its time; it was killed with SIGKILL.
    public struct Timeout: Error, CustomStringConvertible {
        public var command: String
        public var seconds: Double
        public var stdout: Data
        public var stderr: String
        public var description: String {
            "\(command) did not end within \(seconds) s and was killed (SIGKILL); stderr so far: \(stderr.suffix(2000).debugDescription); stdout so far: \(stdout.count) bytes"
        }
    }

    public struct NotExecutable: Error, CustomStringConvertible {
        public var path: String
        public var description: String { "\(path) is not an executable file (for the built tools: run `swift build` first)" }
    }

    /// A child that exits before reading all of its stdin must not kill the test with SIGPIPE.
    private static let ignoreBrokenPipes: Void = { signal(SIGPIPE, SIG_IGN) }()

    public let command: String
    private let process = Process()
    private let exited = DispatchSemaphore(value: 0)
    private let readers = DispatchGroup()
    private let stdoutBuffer = Buffer()
    private let stderrBuffer = Buffer()
    /// The read end of stdout, when the test reads it itself (`streamsStdout`).
    private var streamed: FileHandle?
    private var pending: [UInt8] = []

    /// Starts `executable` (a path) with `arguments`.
    /// - Parameters:
    ///   - stdin: the child's whole standard input; nil is /dev/null.
    ///   - environment: added to (or replacing in) the test's own environment.
    ///   - unsetting: names taken out of the inherited environment (unless `environment` sets them).
    ///   - directory: the working directory; nil is the test's own.
    ///   - streamsStdout: stdout is not collected; the test reads it with `readLine` and may
    ///     close it early (`closeStdout`), as `head` does.
    public init(
        _ executable: String, _ arguments: [String] = [], stdin: Data? = nil, environment: [String: String] = [:],
        unsetting: [String] = [], in directory: String? = nil, output: Output = .collected, streamsStdout: Bool = false
    ) throws {
        _ = Self.ignoreBrokenPipes
        guard FileManager.default.isExecutableFile(atPath: executable) else { throw NotExecutable(path: executable) }
        command = ([(executable as NSString).lastPathComponent] + arguments).joined(separator: " ")
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        var inherited = ProcessInfo.processInfo.environment
        for name in unsetting { inherited[name] = nil }
        process.environment = inherited.merging(environment) { $1 }

        var stdoutPipe: Pipe?
        var stderrPipe: Pipe?
        switch output {
        case .collected:
            stdoutPipe = Pipe()
            stderrPipe = Pipe()
            process.standardOutput = stdoutPipe
            process.standardError = stderrPipe
        case .file(let path):
            guard FileManager.default.createFile(atPath: path, contents: nil), let log = FileHandle(forWritingAtPath: path) else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
            }
            process.standardOutput = log
            process.standardError = log
        case .discarded:
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
        }
        if streamsStdout {
            let pipe = stdoutPipe ?? Pipe()
            process.standardOutput = pipe
            streamed = pipe.fileHandleForReading
            stdoutPipe = nil
        }
        let input = stdin.map { _ in Pipe() }
        process.standardInput = input ?? FileHandle.nullDevice
        let exited = self.exited
        process.terminationHandler = { _ in exited.signal() }
        try process.run()

        if let stdoutPipe { Self.drain(stdoutPipe.fileHandleForReading, into: stdoutBuffer, group: readers) }
        if let stderrPipe { Self.drain(stderrPipe.fileHandleForReading, into: stderrBuffer, group: readers) }
        if let stdin, let writer = input?.fileHandleForWriting {
            Thread.detachNewThread {
                try? writer.write(contentsOf: stdin)  // EPIPE if the child ended without reading it all
                try? writer.close()
            }
        }
    }

    /// Runs `executable` to its end and returns what it gave; with a `timeout` (seconds), a child
    /// still running then is killed and `Timeout` thrown.
    public static func run(
        _ executable: String, _ arguments: [String] = [], stdin: Data? = nil, environment: [String: String] = [:],
        unsetting: [String] = [], in directory: String? = nil, timeout: Double? = nil
    ) throws -> ProcessOutcome {
        try ChildProcess(executable, arguments, stdin: stdin, environment: environment, unsetting: unsetting, in: directory).wait(timeout: timeout)
    }

    public var processIdentifier: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    /// Sends `signal` (SIGKILL, SIGTERM, SIGHUP...) to the child.
    public func send(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits for the child to end and for its output to be read to the end. With a `timeout`,
    /// a child still running then is killed with SIGKILL and `Timeout` is thrown (with what it
    /// had written).
    public func wait(timeout: Double? = nil) throws -> ProcessOutcome {
        let deadline: DispatchTime = timeout.map { .now() + $0 } ?? .distantFuture
        if exited.wait(timeout: deadline) == .timedOut {
            send(SIGKILL)
            _ = exited.wait(timeout: .now() + 10)
            _ = readers.wait(timeout: .now() + 2)
            throw Timeout(command: command, seconds: timeout ?? 0, stdout: stdoutBuffer.data, stderr: String(decoding: stderrBuffer.data, as: UTF8.self))
        }
        var stdout = Data(pending)
        pending = []
        if let streamed {
            stdout.append(streamed.readDataToEndOfFile())
            closeStdout()
        }
        // Something the child started may still hold the pipes: bounded by the same deadline.
        if readers.wait(timeout: deadline) == .timedOut {
            throw Timeout(command: command + " (its output pipes, still open after it ended)", seconds: timeout ?? 0, stdout: stdoutBuffer.data, stderr: String(decoding: stderrBuffer.data, as: UTF8.self))
        }
        process.waitUntilExit()
        return ProcessOutcome(
            status: process.terminationStatus, killedBySignal: process.terminationReason == .uncaughtSignal,
            stdout: stdout + stdoutBuffer.data, stderr: String(decoding: stderrBuffer.data, as: UTF8.self))
    }

    /// The next line of stdout (without its newline), or what came before the end. Only with
    /// `streamsStdout`.
    public func readLine() -> String {
        guard let streamed else { return "" }
        while true {
            if let newline = pending.firstIndex(of: 0x0A) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                return line
            }
            let chunk = streamed.availableData
            if chunk.isEmpty { return String(decoding: pending, as: UTF8.self) }
            pending.append(contentsOf: chunk)
        }
    }

    /// Closes the test's end of stdout: the child's next write finds no reader. Only with
    /// `streamsStdout`.
    public func closeStdout() {
        try? streamed?.close()
        streamed = nil
    }

    /// Reads `handle` to its end on a thread of its own.
    private static func drain(_ handle: FileHandle, into buffer: Buffer, group: DispatchGroup) {
        group.enter()
        Thread.detachNewThread {
            let descriptor = handle.fileDescriptor
            var chunk = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count > 0 {
                    buffer.append(chunk[..<count])
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    break
                }
            }
            try? handle.close()
            group.leave()
        }
    }

    /// Bytes read on a reader thread, read by the test's.
    private final class Buffer: @unchecked Sendable {
        private let lock = NSLock()
        private var bytes = Data()
        func append(_ chunk: ArraySlice<UInt8>) { lock.withLock { bytes.append(contentsOf: chunk) } }
        var data: Data { lock.withLock { bytes } }
    }
}

/// What one run of a program gave.
public struct ProcessOutcome: Sendable {
    /// The exit status, or the signal's number when `killedBySignal`.
    public var status: Int32
    public var killedBySignal: Bool
    public var stdout: Data
    public var stderr: String

    public init(status: Int32, killedBySignal: Bool = false, stdout: Data, stderr: String) {
        self.status = status
        self.killedBySignal = killedBySignal
        self.stdout = stdout
        self.stderr = stderr
    }

    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }

    /// stderr split into lines, without the empty string after the last newline.
    public var stderrLines: [String] {
        stderr.split(separator: "\n", omittingEmptySubsequences: false).dropLast(stderr.hasSuffix("\n") ? 1 : 0).map(String.init)
    }

    /// stdout as JSON Lines (every line must be JSON).
    public func jsonLines() throws -> [JSONValue] {
        try JSONParser.parseSequence(Array(stdout)).map(\.value)
    }
}

/// The package checkout (samples/, Tests/Fixtures/) and the executables `swift build` made.
public enum Checkout {
    /// Tests/Support/ChildProcess.swift -> the package root.
    public static let root: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// `swift build` puts the executables beside the test bundle; `.build/debug` if the bundle
    /// runs from elsewhere.
    public static let binFolder: String = {
        let besideBundle = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().path
        if FileManager.default.isExecutableFile(atPath: besideBundle + "/sov-parse") { return besideBundle }
        return root + "/.build/debug"
    }()

    /// A file of the checkout, by its path from the root ("samples/procore/pcco-event.json").
    public static func path(_ relative: String) -> String { root + "/" + relative }

    /// A built executable ("sov-run").
    public static func executable(_ name: String) -> String { binFolder + "/" + name }
}
