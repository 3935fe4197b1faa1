import ProcoreFormat
import SOVCore
import SpectrumFormat

/// The front end every command that reads exports goes through (`sov-parse`, `sov-run`,
/// `sov-watch`): the settings files that decide how inputs are read (a site profile, Procore
/// markups) are loaded here, once, and an unusable one is an `InputFailure` before any input is
/// touched; inputs are then opened, sniffed and read through `DocumentInputReader`, the one door
/// (reader -> layout -> model), with an input unusable as a whole contributing nothing.
public enum FrontEnd {
    /// The reader for these options.
    public static func reader(_ options: BatchOptions) throws(InputFailure) -> DocumentInputReader {
        var readOptions = SpectrumReadOptions(encoding: options.encoding, delimiter: options.delimiter)
        if let path = options.profile {
            do {
                readOptions.profile = try SpectrumProfile.load(path)
            } catch {
                throw InputFailure(file: path, [error], message: "the profile cannot be used", malformed: .usage)
            }
        }
        var procoreMarkups: JSONValue?
        if let path = options.procoreMarkups {
            do {
                procoreMarkups = try ProcoreReader.loadMarkups(path)
            } catch {
                throw InputFailure(file: path, [error], message: "the Procore markups file cannot be used")
            }
        }
        return DocumentInputReader(spectrum: readOptions, procoreMarkups: procoreMarkups)
    }
}

/// What the front end hands on as it reads.
public protocol InputSink: AnyObject {
    /// The documents of an input read to its end, in order (held until then, so an input that
    /// fails halfway hands on none), then the prime contracts joined across inputs.
    func accept(_ documents: DocumentSpool) throws
    /// A record or document turned away while reading, said at once.
    func reject(_ reject: Reject) throws
    func warn(_ diagnostic: Diagnostic)
    /// An input unusable as a whole; `dropped` documents had been read from it before.
    func fail(_ failure: InputFailure, dropped: Int) throws
}

extension FrontEnd {
    /// The one input loop: each path opened (no links followed when `followingLinks` is false),
    /// its format sniffed and read through `reader`, its documents handed on only once it was read
    /// to its end; then the documents joined across inputs. What `sink` throws ends the loop.
    public static func read(_ paths: [String], reader: DocumentInputReader, followingLinks: Bool = true, into sink: some InputSink) throws {
        let spool = DocumentSpool()
        for path in paths {
            let input: InputFile
            let format: InputFormat
            do {
                input = try open(path, followingLinks: followingLinks)
                format = try InputFormat.sniff(input)
            } catch {
                try sink.fail(InputFailure(error), dropped: 0)
                continue
            }
            do {
                try reader.read(input, format: format) { event in try take(event, spool: spool, sink: sink) }
            } catch let failure as InputFailure {
                let dropped = spool.count
                spool.discard()
                try sink.fail(failure, dropped: dropped)
                continue
            }
            try sink.accept(spool)
            spool.discard()
        }
        try reader.finish { event in try take(event, spool: spool, sink: sink) }
        try sink.accept(spool)
        spool.discard()
    }

    /// Opens one input (standard input for `-`); the one place inputs are opened.
    static func open(_ path: String, followingLinks: Bool = true) throws(IOFailure) -> InputFile {
        try InputFile(path: path, followingLinks: followingLinks)
    }

    /// The inputs of the stages after sov-parse, canonical JSON Lines, document by document:
    /// each is judged alone, so they stream. A line that is no canonical document is rejected
    /// with its raw text; an input that cannot be read is a failure, and the others go on.
    public static func readCanonical(
        _ paths: [String], document: (CanonicalDocument) throws -> Void, reject: (Reject) throws -> Void, fail: (InputFailure) throws -> Void
    ) throws {
        for path in paths {
            do {
                var reader = CanonicalReader(try open(path))
                while let item = try reader.next() {
                    switch item {
                    case .malformed(let raw, let diagnostic): try reject(Reject(record: raw, diagnostics: [diagnostic]))
                    case .document(let read): try document(read)
                    }
                }
            } catch let failure as IOFailure {
                try fail(InputFailure(failure))
            }
        }
    }

    private static func take(_ event: SpectrumOutput, spool: DocumentSpool, sink: some InputSink) throws {
        switch event {
        case .document(let document): try spool.append(document)
        case .rejected(let reject): try sink.reject(reject)
        case .warning(let diagnostic): sink.warn(diagnostic)
        }
    }
}

extension StageReport {
    /// The front end of the stages that read canonical JSON Lines (sov-validate, sov-markup,
    /// sov-emit): runs a stage over them: each input in turn, each document to `body`
    /// (which writes, rejects and counts its outcome), malformed lines rejected, an input that
    /// cannot be read reported while the others go on; then `finish`. A closed `output` (the
    /// reader of a pipe went away, as with `| head`) ends the stage at once with status 0: the
    /// reader has what it wanted. Returns the exit status (docs/FORMATS.md, "Exit codes").
    public func runCanonical(inputPaths: [String], output: OutputSink, body: (CanonicalDocument) throws -> Void, finish: () throws -> Void = {}) -> ExitStatus {
        do {
            try FrontEnd.readCanonical(
                inputPaths,
                document: { document in
                    countIn()
                    try body(document)
                },
                reject: { reject in
                    countIn()
                    try self.reject(reject)
                },
                fail: { failure in try fail(failure.status, "\(failure.path): \(failure.message)") })
            try finish()
            try output.flush()
        } catch is OutputClosed {
            return .ok
        } catch let failure as IOFailure {
            try? fail(failure.status, failure.description)
        } catch {
            try? fail(.software, "internal error: \(error)")
        }
        return self.finish()
    }
}
