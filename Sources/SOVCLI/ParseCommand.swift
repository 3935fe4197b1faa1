import ArgumentParser
import ProcoreFormat
import SOVFrontEnd
import SOVCore
import SpectrumFormat

/// `sov-parse`: Spectrum exports (XML or CSV) and Procore change order JSON, told apart by
/// content, into canonical JSON Lines.
public struct ParseCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "sov-parse",
        abstract: "Read Spectrum exports (XML or CSV) and Procore change orders (JSON) into canonical JSON Lines.",
        discussion: """
            Each input is told apart by its content: XML (Data Exchange responses and import files, \
            SQL FOR XML row exports), CSV with a header row, or Procore JSON. Job header and SOV line \
            records from all inputs of one call are joined by company + job + customer; flat contract \
            and change order exports stream one document at a time and must be sorted by their key.

            An input that is unusable as a whole (malformed XML, a DOCTYPE, a truncated Data Exchange \
            export, an unterminated CSV quote) contributes nothing: its documents are held until it has \
            been read to its end (into a file of its own, they are written as read and cut off again \
            if it fails). Rejected records and documents go to --rejects with their raw fields.

            Procore JSON is the ERP export event Procore sends when a PCCO is accepted for export \
            (create_prime_contract_change_order, whole or its request_data) or a REST change order \
            package; one object, an array or JSON Lines. A package without its own "markups" takes \
            them from --procore-markups (the shape of GET /rest/v1.0/financials/markups).

            --encoding applies to CSV (XML declares its own); with windows-1252, a file that is valid \
            UTF-8 throughout is still read as UTF-8, so a UTF-8 file given next to a Windows-1252 one \
            is not garbled.

            Exit status: 0 all good; 1 some records or documents rejected; 64 usage; 65 an input unusable \
            as a whole; 66 an input missing; 70 internal error. \
            When stdout closes early (| head), sov-parse stops quietly with status 0.
            """)

    @OptionGroup public var options: StageOptions

    @OptionGroup public var reading: ReadingOptions

    @Flag(name: .long, help: "Print raw records instead of documents: {\"file\", \"line\", \"layout\", \"fields\"}, values exactly as in the file.")
    public var records = false

    public init() {}

    public func run() throws {
        StageDriver.prepareProcess()
        try exit(with: execute())
    }

    func execute() -> ExitStatus {
        // An input's documents are held until it is read whole, then only written out: past 1 MB
        // they wait in the spool's temporary file, so memory stays flat however large the input.
        DocumentSpool.defaultMemoryLimit.store(1 << 20, ordering: .relaxed)
        let reader: DocumentInputReader
        do {
            var settings = BatchSettings()
            try reading.apply(to: &settings)
            reader = try FrontEnd.reader(try settings.options())
        } catch let failure as InputFailure {
            for diagnostic in failure.diagnostics { StageDriver.printError("sov-parse: \(diagnostic.humanLine)") }
            return failure.status
        } catch {
            StageDriver.printError("sov-parse: error: \(error)")
            return .usage
        }
        let report: StageReport
        switch StageDriver.makeReport(stage: "sov-parse", options: options) {
        case .success(let made): report = made
        case .failure(let status): return status
        }
        let run = ParseRun(report: report)
        do {
            if records {
                for path in options.inputPaths {
                    let input: InputFile
                    let format: InputFormat
                    do {
                        input = try InputFile(path: path)
                        format = try InputFormat.sniff(input)
                    } catch {
                        try report.fail(error.status, error.description)
                        continue
                    }
                    if format == .xml || format == .csv {
                        try run.readRecords(input, format: format, parser: reader.spectrum)
                    } else {
                        // Procore JSON has no records of its own: its documents, as without --records.
                        try FrontEnd.read([path], reader: reader, into: run)
                    }
                }
            } else {
                // Into a file or /dev/null the documents go as they are read, and a failing input's
                // are taken back; into a pipe or terminal they are held until the input ends.
                // No reading thread: with the CSV prefetcher's, a third thread on two cores made
                // the bench's CSV 5% slower (0.094 s against 0.088 s), the XML no faster.
                try FrontEnd.read(options.inputPaths, reader: reader, mode: run.output.takeBack == nil ? .held : .streaming, usingReadingThread: false, into: run)
            }
            try run.output.flush()
        } catch is OutputClosed {
            return .ok
        } catch let failure as IOFailure {
            try? report.fail(failure.status, failure.description)
        } catch {
            try? report.fail(.software, "internal error: \(error)")
        }
        return report.finish()
    }
}

/// One `sov-parse` run: what the front end hands on, written as canonical JSON Lines.
///
/// Held mode: an input's documents come in one `accept` once it was read whole. Streaming mode
/// (the output can take back what was written, `OutputSink.takeBack`): each is written as it is
/// read, and an input that fails is cut back to where it began. Either way the output, the
/// counts and the warnings said are the same.
final class ParseRun: InputSink {
    let report: StageReport
    let output = OutputSink()
    /// Streaming mode: where the current input began, and what it handed on so far (set anew
    /// by `begin`, which comes before anything of an input).
    private var inputStart: Int64 = 0
    private var streamed = 0
    private var streamedWarnings: [Diagnostic] = []

    init(report: StageReport) {
        self.report = report
    }

    func accept(_ documents: DocumentSpool) throws {
        for warning in documents.warnings { report.warn(warning) }
        report.countIn(documents.count)
        report.countOut(documents.count)
        try documents.commit(to: output)
    }

    func begin(_ input: String) throws {
        guard output.takeBack != nil else { return }
        inputStart = try output.mark()
        streamed = 0
        streamedWarnings.removeAll()
    }

    func document(_ document: CanonicalDocument) throws {
        streamed += 1
        for diagnostic in document.diagnostics where !diagnostic.isError { streamedWarnings.append(diagnostic) }
        try output.writeLine(document)
    }

    func end(_ input: String) throws {
        guard output.takeBack != nil else { return }
        for warning in streamedWarnings { report.warn(warning) }
        report.countIn(streamed)
        report.countOut(streamed)
    }

    func reject(_ reject: Reject) throws {
        report.countIn()
        try report.reject(reject)
    }

    func warn(_ diagnostic: Diagnostic) {
        report.warn(diagnostic)
    }

    func fail(_ failure: InputFailure, dropped: Int) throws {
        if output.takeBack != nil { try output.cut(to: inputStart) }
        for diagnostic in failure.diagnostics { report.say(diagnostic.humanLine) }
        let held = dropped > 0 ? " (\(dropped) document\(dropped == 1 ? "" : "s") read before the problem dropped)" : ""
        try report.fail(failure.status, "\(failure.path): \(failure.message)" + held, diagnostics: failure.diagnostics)
    }

    /// `--records`: raw records, streamed as read.
    func readRecords(_ input: InputFile, format: InputFormat, parser: SpectrumParser) throws {
        do {
            try parser.records(input, format: format, note: { report.warn($0) }) { item in
                report.countIn()
                switch item {
                case .record(let record):
                    report.countOut()
                    try output.writeLine(record.json)
                case .malformed(let raw, let diagnostic):
                    try report.reject(Reject(record: raw, diagnostics: [diagnostic]))
                }
            }
        } catch let unusable as InputFailure {
            for diagnostic in unusable.diagnostics { report.say(diagnostic.humanLine) }
            try report.fail(unusable.status, "\(input.name) is unusable as a whole", diagnostics: unusable.diagnostics)
        } catch let failure as IOFailure {
            try report.fail(failure.status, failure.description)
        }
    }
}
