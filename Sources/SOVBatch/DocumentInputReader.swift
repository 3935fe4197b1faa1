import ProcoreFormat
import SOVCore
import SpectrumFormat

extension InputFailure {
    /// Malformed Procore JSON: the whole input is unusable (exit 65), with line and column.
    init(_ failure: ProcoreInputFailure) {
        self.init(path: failure.file, status: failure.status, message: "line \(failure.line), column \(failure.column): malformed JSON: \(failure.message)", diagnostics: [failure.diagnostic])
    }
}

/// The one way an input becomes canonical documents, for `sov-parse` and `sov-run` alike:
/// Spectrum XML or CSV through the Spectrum parser (headers and SOV lines joined across inputs),
/// Procore change order JSON through the Procore reader.
public final class DocumentInputReader {
    public let spectrum: SpectrumParser
    public let procoreMarkups: JSONValue?

    public init(spectrum options: SpectrumReadOptions = SpectrumReadOptions(), procoreMarkups: JSONValue? = nil) {
        self.spectrum = SpectrumParser(options: options)
        self.procoreMarkups = procoreMarkups
    }

    /// Reads one input, emitting documents, rejected records and warnings as they come. Throws
    /// `InputFailure` when the input is unusable as a whole (malformed, a DOCTYPE, a truncated
    /// export): the caller then drops whatever this input emitted, so no input counts by half.
    public func read(_ input: InputFile, format: InputFormat, emit: (SpectrumOutput) throws -> Void) throws {
        switch format {
        case .empty:
            throw InputFailure(path: input.name, status: .dataError, message: "the input is empty (no header row, no records)")
        case .json:
            if try isJSONLines(input) {
                try readJSONLines(input, emit: emit)
                return
            }
            let bytes: [UInt8]
            do {
                bytes = try input.readAll()
            } catch {
                throw InputFailure(error)
            }
            let result = ProcoreReader.read(bytes: bytes, file: input.name, markups: procoreMarkups)
            if let failure = result.failure { throw InputFailure(failure) }
            for reject in result.rejects { try emit(.rejected(reject)) }
            for document in result.documents { try emit(.document(document)) }
        case .xml, .csv:
            do {
                try spectrum.parse(input, format: format, emit: emit)
            } catch let unusable as InputUnusable {
                throw InputFailure(path: input.name, status: unusable.status, message: "unusable as a whole; nothing from it is used", diagnostics: [unusable.diagnostic])
            } catch let failure as IOFailure {
                throw InputFailure(failure)
            }
        }
    }

    /// JSON Lines when the first line is a whole JSON object by itself; a single object written
    /// over several lines, or an array, is read whole (such exports are small).
    func isJSONLines(_ input: InputFile) throws -> Bool {
        let head: [UInt8]
        do {
            head = try input.peek(1 << 20)
        } catch {
            throw InputFailure(error)
        }
        var body = head[...]
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
        guard let start = body.firstIndex(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D && $0 != 0x0A }),
            body[start] == UInt8(ascii: "{"),
            let newline = body[start...].firstIndex(of: 0x0A)
        else { return false }
        return (try? JSONParser.parse(Array(body[start..<newline]))) != nil
    }

    /// One change order per line, in constant memory. A line that is not JSON makes the input
    /// unusable as a whole, as malformed JSON does in any shape.
    func readJSONLines(_ input: InputFile, emit: (SpectrumOutput) throws -> Void) throws {
        let lines = LineReader(input)
        var record = 0
        do {
            while var line = try lines.next() {
                if lines.lineNumber == 1, line.starts(with: [0xEF, 0xBB, 0xBF]) { line = line.dropFirst(3) }
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                record += 1
                let value: JSONValue
                do {
                    value = try JSONParser.parse(Array(line))
                } catch {
                    throw InputFailure(ProcoreInputFailure(file: input.name, line: lines.lineNumber, column: error.column, message: error.message))
                }
                let location = SourceLocation(file: input.name, line: lines.lineNumber, record: record)
                switch ProcoreReader.changeOrder(from: value, at: location, markups: procoreMarkups) {
                case .success(let order): try emit(.document(.changeOrder(order)))
                case .failure(let rejection): try emit(.rejected(Reject(record: value, diagnostics: rejection.diagnostics)))
                }
            }
        } catch let failure as IOFailure {
            throw InputFailure(failure)
        }
    }

    /// After the last input: prime contracts joined from header and SOV line records.
    public func finish(emit: (SpectrumOutput) throws -> Void) throws {
        try spectrum.finish(emit: emit)
    }
}
