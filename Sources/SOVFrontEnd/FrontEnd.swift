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
///
/// Each input is framed by `begin` and then `end` (read to its end) or `fail` (unusable as a
/// whole), and after the last input the prime contracts joined across inputs come framed the
/// same way, as the input `FrontEnd.joinedInputs`. In between, documents come one of two ways
/// (`FrontEnd.Mode`): `held`, the input's documents in one `accept` once it was read whole (so
/// an input that fails halfway hands on none: sov-parse); `streaming`, each `document` as it is
/// read, so that memory does not grow with the input, and the sink undoes what an input handed
/// on when it gets `fail` for it (sov-run and sov-watch, inside their ledger transaction).
public protocol InputSink: AnyObject {
    /// An input is about to be read (the name it is read under, or `FrontEnd.joinedInputs`).
    func begin(_ input: String) throws
    /// Held mode: the documents of an input read to its end, in order.
    func accept(_ documents: DocumentSpool) throws
    /// Streaming mode: one document, as it was read.
    func document(_ document: CanonicalDocument) throws
    /// A record or document turned away while reading, said at once.
    func reject(_ reject: Reject) throws
    func warn(_ diagnostic: Diagnostic)
    /// The input begun last was read to its end: what it handed on stands.
    func end(_ input: String) throws
    /// An input unusable as a whole; `dropped` documents had been read from it before. In
    /// streaming mode, whatever it handed on since `begin` is to be undone.
    func fail(_ failure: InputFailure, dropped: Int) throws
}

extension InputSink {
    public func begin(_ input: String) throws {}
    public func end(_ input: String) throws {}
    /// A sink that takes documents one at a time takes a held input's that way too.
    public func accept(_ documents: DocumentSpool) throws {
        try documents.drain { try document($0) }
    }
    public func document(_ document: CanonicalDocument) throws {}
}

extension FrontEnd {
    /// How documents reach the sink: held per input until it was read whole, or streamed.
    public enum Mode: Sendable {
        case held
        case streaming
    }

    /// What `begin` and `end` name for the prime contracts joined across inputs after the last one.
    public static let joinedInputs = "<joined>"

    /// The one input loop: each path opened (no links followed when `followingLinks` is false),
    /// its format sniffed and read through `reader`, its documents handed on as `mode` says;
    /// then the documents joined across inputs. What `sink` throws ends the loop.
    /// `naming` gives the name an input is known by in documents and messages (the drop folder
    /// names it as it will be archived, up front; it is asked once per path, before any is read).
    ///
    /// In streaming mode the loop runs on a reading thread of its own (ReadingThread.swift)
    /// unless `usingReadingThread` is false: the sink is still told everything in the same order,
    /// on the calling thread, and the reader is the reading thread's until `read` returns.
    public static func read(
        _ paths: [String], reader: DocumentInputReader, followingLinks: Bool = true, mode: Mode = .held,
        usingReadingThread: Bool = true, naming: (String) -> String = { $0 }, into sink: some InputSink
    ) throws {
        if mode == .streaming && usingReadingThread,
            try readOnReadingThread(paths, reader: reader, followingLinks: followingLinks, naming: naming, into: sink)
        {
            return
        }
        try readHere(paths, reader: reader, followingLinks: followingLinks, mode: mode, naming: naming, into: sink)
    }

    /// The input loop itself, on the calling thread.
    static func readHere(
        _ paths: [String], reader: DocumentInputReader, followingLinks: Bool, mode: Mode,
        naming: (String) -> String, into sink: some InputSink
    ) throws {
        let spool = mode == .held ? DocumentSpool() : nil
        var count = 0
        func take(_ event: ReadEvent) throws {
            switch event {
            case .read(.accepted(let document)), .read(.held(let document)):
                count += 1
                if let spool { try spool.append(document) } else { try sink.document(document) }
            case .read(.rejected(let reject)): try sink.reject(reject)
            case .warning(let diagnostic): sink.warn(diagnostic)
            }
        }
        for path in paths {
            let input: InputFile
            let format: InputFormat
            do {
                let name = naming(path)
                input = try open(path, named: name == path ? nil : name, followingLinks: followingLinks)
                format = try InputFormat.sniff(input)
            } catch {
                try sink.begin(naming(path))
                try sink.fail(InputFailure(error), dropped: 0)
                continue
            }
            try sink.begin(input.name)
            count = 0
            do {
                try reader.read(input, format: format, emit: take)
            } catch let failure as InputFailure {
                spool?.discard()
                try sink.fail(failure, dropped: count)
                continue
            }
            if let spool {
                try sink.accept(spool)
                spool.discard()
            }
            try sink.end(input.name)
        }
        try sink.begin(joinedInputs)
        try reader.finish(emit: take)
        if let spool {
            try sink.accept(spool)
            spool.discard()
        }
        try sink.end(joinedInputs)
    }

    /// Opens one input (standard input for `-`); the one place inputs are opened.
    static func open(_ path: String, named name: String? = nil, followingLinks: Bool = true) throws(IOFailure) -> InputFile {
        try InputFile(path: path, named: name, followingLinks: followingLinks)
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

extension FrontEnd {
    // What the inputs named come to: files as named, folders walked. The one place a folder of
    // inputs is read (sov-run's arguments, the drop folder's claimed entries).

    /// Files named directly, and the files of folders named, subfolders included (names starting
    /// with `.` and partial downloads `.tmp`/`.part` are left out), in path order.
    public static func expand(_ inputs: [String]) -> (files: [String], failures: [InputFailure]) {
        let scan = scan(inputs)
        return (scan.files, scan.failures)
    }

    /// What the inputs named come to.
    public struct InputScan: Sendable {
        /// Files to read, in order: as named, and each folder's in byte order of their names,
        /// depth first (a subfolder's files where its name sorts).
        public var files: [String] = []
        /// Inputs that are not there (66).
        public var failures: [InputFailure] = []
        /// Entries of a folder that are not read, each said as a reject (IO001) naming it: a
        /// link (never followed in the drop folder; in sov-run not into a folder, which could
        /// loop), a FIFO, device or socket, a name that is not UTF-8, a folder nested too deep.
        public var skipped: [Reject] = []
    }

    /// Subfolders deeper than this are not read (and said): a dated drops/2026/11/27 is 3.
    public static let maximumFolderDepth = 32

    /// Scans the inputs. With `followingLinks` false (the drop folder) nothing below a folder
    /// that is not a regular file or a folder is taken, links included.
    public static func scan(_ inputs: [String], followingLinks: Bool = true) -> InputScan {
        var scan = InputScan()
        func skip(_ path: String, _ why: String) {
            let location = SourceLocation(file: path)
            scan.skipped.append(Reject(record: .object([JSONMember("file", .string(path))]), diagnostics: [.error(.IO001, "not read: \(why)", at: location)]))
        }
        func walk(_ folder: String, depth: Int) {
            let entries: [FileSystem.Entry]
            do {
                entries = try FileSystem.entries(in: folder)
            } catch {
                scan.failures.append(InputFailure(error))
                return
            }
            for entry in entries where !FileSystem.isPartialOrHidden(entry.name) {
                let path = folder.hasSuffix("/") ? folder + entry.name : folder + "/" + entry.name
                guard entry.isUTF8 else {
                    skip(path, "the name is not valid UTF-8 (shown with its bytes as %XX); rename it and give it again")
                    continue
                }
                guard let info = FileSystem.info(path) else {
                    skip(path, "it vanished while the folder was read")
                    continue
                }
                switch info.kind {
                case .file:
                    scan.files.append(path)
                case .folder:
                    if depth >= maximumFolderDepth {
                        skip(path, "a folder nested more than \(maximumFolderDepth) levels deep")
                    } else {
                        walk(path, depth: depth + 1)
                    }
                case .other where info.isLink:
                    guard followingLinks else {
                        skip(path, "a symbolic link; only regular files inside the folder are read, links are never followed")
                        continue
                    }
                    switch FileSystem.info(path, followingLinks: true)?.kind {
                    case .file?: scan.files.append(path)
                    case .folder?: skip(path, "a symbolic link to a folder; links to folders are not followed (they can loop): name the folder itself")
                    case .other?: skip(path, "a symbolic link to a FIFO, device or socket; only files are read")
                    case nil: skip(path, "a symbolic link to nothing")
                    }
                case .other:
                    skip(path, "a FIFO, device or socket, not a regular file")
                }
            }
        }
        for input in inputs {
            if input == "-" {
                scan.files.append(input)
                continue
            }
            guard let info = FileSystem.info(input, followingLinks: followingLinks) else {
                scan.failures.append(InputFailure(path: input, status: .noInput, message: "no such file or folder"))
                continue
            }
            if info.kind == .folder {
                walk(input, depth: 0)
            } else {
                // A special file named directly is refused when opened (InputFile), with 66.
                scan.files.append(input)
            }
        }
        return scan
    }
}
