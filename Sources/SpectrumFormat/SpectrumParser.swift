import SOVCore

/// Settings for reading Spectrum exports: command-line choices over the profile's.
public struct SpectrumReadOptions: Sendable {
    public var profile: SpectrumProfile
    /// CSV encoding given on the command line; the profile's, then UTF-8, otherwise.
    public var encoding: TextEncoding?
    /// CSV delimiter given on the command line; the profile's, then `,`, otherwise.
    public var delimiter: UInt8?

    public init(profile: SpectrumProfile = .standard, encoding: TextEncoding? = nil, delimiter: UInt8? = nil) {
        self.profile = profile
        self.encoding = encoding
        self.delimiter = delimiter
    }

    public var csvEncoding: TextEncoding { encoding ?? profile.encoding ?? .utf8 }
    public var csvDelimiter: UInt8 { delimiter ?? profile.delimiter ?? UInt8(ascii: ",") }
    /// `--delimiter auto` (or the profile's `delimiter = "auto"`): sniffed per file.
    public var sniffsDelimiter: Bool { delimiter == SpectrumReadOptions.autoDelimiter || (delimiter == nil && profile.sniffsDelimiter) }
    /// The value of `delimiter` that stands for "auto" (no CSV delimiter is a NUL byte).
    public static let autoDelimiter: UInt8 = 0
}

/// Spectrum exports (XML or CSV) into canonical documents: the one code path `sov-parse` and the
/// batch runner share. Feed it every input with `parse`, then call `finish` for the documents
/// joined across inputs (job headers with their SOV lines).
///
/// When `parse` throws (`InputFailure`: malformed XML, a DOCTYPE, a truncated export, an
/// unterminated CSV quote; or `IOFailure`), the caller must drop whatever this input emitted:
/// the input is unusable as a whole (exit 65: docs/FORMATS.md, "Exit codes"), and the parser has already forgotten its
/// records. `DocumentSpool` holds one input's documents until then.
public final class SpectrumParser {
    public let options: SpectrumReadOptions
    public let assembler: SpectrumAssembler

    public init(options: SpectrumReadOptions = SpectrumReadOptions()) {
        self.options = options
        self.assembler = SpectrumAssembler(profile: options.profile)
    }

    /// The record reader for an input whose format is known (`.xml` or `.csv`). `note` receives
    /// remarks about how it is read (a UTF-8 file read as UTF-8 despite windows-1252).
    /// With `checkingHeader`, a CSV header the layouts cannot use fails the input at once
    /// (HeaderCheck); `--records`, which shows an export as it is, goes without.
    public func recordReader(for input: InputFile, format: InputFormat, checkingHeader: Bool = false, note: (Diagnostic) throws -> Void = { _ in }) throws -> any RecordReader {
        switch format {
        case .xml:
            return try XMLRecordReader(input)
        case .csv:
            var encoding = options.csvEncoding
            if encoding == .windows1252, input.path != "-", try UTF8Check.check(path: input.path) == .validUTF8 {
                encoding = .utf8
                try note(.warning(.FMT008, "read as UTF-8: the file is valid UTF-8 throughout, so windows-1252 does not apply to it", at: SourceLocation(file: input.name)))
            }
            let profile = options.profile
            let file = input.name
            var check: (@Sendable ([String], Int) -> Diagnostic?)?
            if checkingHeader {
                check = { names, line in HeaderCheck.problem(names, profile: profile, file: file, line: line) }
            }
            var delimiter = options.csvDelimiter
            if options.sniffsDelimiter {
                delimiter = CSVRecordReader.sniffDelimiter(headerLine: try input.peek(64 << 10))
                let name = delimiter == 0x09 ? "tab" : String(UnicodeScalar(delimiter))
                try note(.warning(.FMT007, "--delimiter auto: read with '\(name)' as the delimiter, from the header line", at: SourceLocation(file: input.name, line: 1)))
            }
            return CSVRecordReader(input, delimiter: delimiter, encoding: encoding, headerCheck: check)
        case .json, .empty:
            throw InputFailure(unusable: .error(.FMT007, format == .empty ? "the input is empty" : "JSON is not a Spectrum export", at: SourceLocation(file: input.name)))
        }
    }

    /// Reads one input into documents, emitting each as it completes.
    public func parse(_ input: InputFile, format: InputFormat, emit: (ReadEvent) throws -> Void) throws {
        do {
            let base = try recordReader(for: input, format: format, checkingHeader: true) { try emit(.warning($0)) }
            // A flat CSV export's SOV lines are read on the prefetching thread, which the CSV
            // scanner leaves time to spare; libxml2 leaves its thread none, so XML's are not.
            var prepare: ((inout Record) -> Void)?
            if format == .csv {
                let preparer = SOVLineReading.Preparer(profile: options.profile)
                prepare = { preparer.prepare(&$0) }
            }
            let reader = RecordPrefetcher(base, prepare: prepare)
            var rows = 0
            while let item = try reader.next() {
                rows += 1
                // Consumed: the record is moved into the assembler, not copied.
                switch consume item {
                case .record(let record):
                    try assembler.add(record, emit: emit)
                case .malformed(let raw, let diagnostic):
                    try emit(.rejected(Reject(record: raw, diagnostics: [diagnostic])))
                }
            }
            // Read to the end: the prefetching thread is done with the reader.
            if let csv = base as? CSVRecordReader, let first = csv.blankRows.first {
                let count = csv.blankRows.count
                let lines = count == 1 ? "line \(first)" : "lines \(first)–\(csv.blankRows.last!)" + (csv.blankRows.last! - first + 1 == count ? "" : " (not all)")
                try emit(.warning(.warning(.FMT007, "\(count) blank row\(count == 1 ? "" : "s") skipped (\(lines)): every field empty", at: SourceLocation(file: input.name, line: first))))
            }
            if rows == 0 {
                let why = format == .xml
                    ? "no element has only simple text elements as children, so there is no record"
                    : "the file has a header row and no records"
                try emit(.warning(.warning(.FMT007, "no records: \(why)", at: SourceLocation(file: input.name))))
            }
            try assembler.endFile(emit: emit)
        } catch {
            assembler.abandonFile()
            throw error
        }
    }

    /// After the last input: the contracts joined from header and SOV line records.
    public func finish(emit: (ReadEvent) throws -> Void) throws {
        try assembler.finish(emit: emit)
    }

    /// Raw records of one input, each with the layout that recognises it (`sov-parse --records`).
    public func records(_ input: InputFile, format: InputFormat, note: (Diagnostic) throws -> Void = { _ in }, emit: (RecordItem) throws -> Void) throws {
        let reader = RecordPrefetcher(try recordReader(for: input, format: format, note: note))
        while let item = try reader.next() {
            switch item {
            case .record(let record):
                try emit(.record(assembler.binder.recognise(record)))
            case .malformed:
                try emit(item)
            }
        }
    }
}
