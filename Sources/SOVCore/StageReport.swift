/// What became of one document at a stage (validation, markup, export): the one outcome type the
/// stage commands and the batch runner act on, the same way.
public enum Verdict: Sendable, Hashable {
    /// The document as it goes on, with any warnings this stage added to its `diagnostics`.
    case accepted(CanonicalDocument)
    /// Turned away with every problem found; the reject keeps the document so nothing is lost.
    case rejected(Reject)
    /// Not judged yet: it waits for the rest of the batch (a change order whose prime contract
    /// may come later), and is judged when the batch ends.
    case held(CanonicalDocument)

    /// `document` as it came in, with every error found (and any warning).
    public static func rejected(_ document: CanonicalDocument, _ diagnostics: [Diagnostic]) -> Verdict {
        .rejected(Reject(document: document, diagnostics: diagnostics))
    }
}

/// What reading an input gives, as it goes: what became of each document (`Verdict`: read, or
/// rejected with its raw records), or a warning about the input itself.
public enum ReadEvent: Sendable {
    case read(Verdict)
    /// A warning that belongs to no document (a Data Exchange W row without data, an encoding note).
    case warning(Diagnostic)

    public static func document(_ document: CanonicalDocument) -> ReadEvent { .read(.accepted(document)) }
    public static func rejected(_ reject: Reject) -> ReadEvent { .read(.rejected(reject)) }
}

/// A document, or what is left of it, that a stage turned away: written to the rejects stream
/// with every problem found so that nothing is lost (docs/FORMATS.md, "Rejects").
public struct Reject: Sendable, Hashable {
    /// The canonical document when there is one: written straight as bytes, never built as a
    /// JSON tree only to be written again.
    public var canonical: CanonicalDocument?
    /// What is left of a document no canonical one could be made of (its raw records).
    private var rawDocument: JSONValue?
    public var record: JSONValue?
    public var diagnostics: [Diagnostic]

    public init(document: JSONValue? = nil, record: JSONValue? = nil, diagnostics: [Diagnostic]) {
        self.rawDocument = document
        self.record = record
        self.diagnostics = diagnostics
    }

    public init(document: CanonicalDocument, diagnostics: [Diagnostic]) {
        self.canonical = document
        self.diagnostics = diagnostics
    }

    /// The document as the rejects stream carries it.
    public var document: JSONValue? { canonical?.json ?? rawDocument }

    func encode(into output: inout some JSONOutput) {
        output.object { output in
            if let canonical {
                output.key("document")
                canonical.encode(into: &output)
            } else if let rawDocument {
                output.key("document")
                output.value(rawDocument)
            }
            if let record {
                output.key("record")
                output.value(record)
            }
            output.key("diagnostics")
            output.array(diagnostics) { $0.value($1.json) }
        }
    }

    public var json: JSONValue { JSONTreeOutput.build { encode(into: &$0) } }

    /// Appends the reject's JSON line, without its newline.
    public func writeJSON(into buffer: inout [UInt8]) {
        JSONByteOutput.write(into: &buffer) { encode(into: &$0) }
    }
}

/// Counts what a stage did and speaks for it on stderr: a human line per problem
/// (`file:line: error: [CODE] message`), the rejects stream, and a one-line summary at the end.
public final class StageReport {
    public let stage: String
    public private(set) var documentsIn = 0
    public private(set) var documentsOut = 0
    public private(set) var rejected = 0
    public private(set) var warnings = 0
    public private(set) var rejectCodes: [String: Int] = [:]
    /// The worst whole-input failure seen (a file that could not be read, malformed JSON...).
    public private(set) var failure: ExitStatus = .ok
    private let rejectsSink: OutputSink?
    private let humanSink: OutputSink
    public var quiet: Bool

    public init(stage: String, rejects: OutputSink? = nil, human: OutputSink = .standardError(), quiet: Bool = false) {
        self.stage = stage
        self.rejectsSink = rejects
        self.humanSink = human
        self.quiet = quiet
    }

    public func countIn(_ count: Int = 1) { documentsIn += count }
    public func countOut(_ count: Int = 1) { documentsOut += count }

    /// Prints a warning that did not reject anything.
    public func warn(_ diagnostic: Diagnostic) {
        warnings += 1
        say(diagnostic.humanLine)
    }

    /// Warnings rendered as lines earlier (held until a batch commits): counted, and said
    /// unless quiet.
    public func warn(count: Int, lines: ByteSpool) {
        warnings += count
        guard !quiet else { return }
        try? lines.forEachChunk { try humanSink.write(bytes: $0) }
    }

    public func reject(_ reject: Reject) throws {
        rejected += 1
        var codes = Set<String>()
        for diagnostic in reject.diagnostics {
            if diagnostic.isError { codes.insert(diagnostic.code.rawValue) }
            say(diagnostic.humanLine)
        }
        for code in codes { rejectCodes[code, default: 0] += 1 }
        if let rejectsSink { try rejectsSink.writeLine(reject) }
    }

    /// A whole input that could not be used: said on stderr and remembered for the exit code.
    public func fail(_ status: ExitStatus, _ message: String, diagnostics: [Diagnostic] = []) throws {
        failure = failure.worst(status)
        if quiet {
            // -q hides diagnostics, never why a run failed (66, 65 for a whole file, 73, 74):
            // the reason, and the diagnostics that say where, which callers said only unquiet.
            for diagnostic in diagnostics { try? humanSink.write(diagnostic.humanLine + "\n") }
            try? humanSink.write("\(stage): error: \(message)\n")
        } else {
            say("\(stage): error: \(message)")
        }
        if !diagnostics.isEmpty, let rejectsSink {
            try rejectsSink.writeLine(Reject(diagnostics: diagnostics).json)
        }
    }

    public func say(_ line: String) {
        guard !quiet else { return }
        try? humanSink.write(line + "\n")
    }

    public var summaryLine: String {
        var text = "\(stage): \(documentsIn) in, \(documentsOut) out, \(rejected) rejected"
        if !rejectCodes.isEmpty {
            text += " (" + rejectCodes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")"
        }
        if warnings > 0 { text += ", \(warnings) warning" + (warnings == 1 ? "" : "s") }
        return text
    }

    /// Flushes the streams and prints the summary; returns the exit status the run earned.
    public func finish() -> ExitStatus {
        try? rejectsSink?.flush()
        if !quiet { try? humanSink.write(summaryLine + "\n") }
        try? humanSink.flush()
        return failure.worst(rejected > 0 ? .someRejected : .ok)
    }
}

/// Reads canonical documents, one JSON line each, from one input in constant memory.
public struct CanonicalReader {
    private let lines: LineReader

    public init(_ input: InputFile) {
        lines = LineReader(input)
    }

    public enum Item {
        case document(CanonicalDocument)
        /// A line that is not a canonical document; the raw text is kept for the rejects stream.
        case malformed(raw: JSONValue, Diagnostic)
    }

    /// The next document or malformed line; blank lines are skipped; nil at the end. Throws
    /// when the input cannot be read or is of another canonical schema version (exit 65).
    public mutating func next() throws(IOFailure) -> Item? {
        while let line = try lines.next() {
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            let location = SourceLocation(file: lines.name, line: lines.lineNumber)
            let value: JSONValue
            do {
                value = try JSONParser.parse(Array(line))
            } catch {
                let diagnostic = Diagnostic.error(.FMT009, "not a JSON line: \(error.message) at column \(error.column); stages read the JSON Lines that sov-parse writes", at: location)
                return .malformed(raw: .string(String(decoding: line, as: UTF8.self)), diagnostic)
            }
            // Another version is another format, not a bad document (docs/FORMATS.md, "Reading it back"): the input fails.
            if let schema = value["schema"], schema.intValue != CanonicalDocument.schemaVersion {
                throw IOFailure(
                    path: "\(lines.name):\(lines.lineNumber)",
                    message: "unknown canonical schema version \(schema.text); this SOVBridge reads version \(CanonicalDocument.schemaVersion): produce the input with the same SOVBridge version",
                    status: .dataError)
            }
            do {
                return .document(try CanonicalDocument(json: value, at: location))
            } catch {
                return .malformed(raw: value, error)
            }
        }
        return nil
    }
}
