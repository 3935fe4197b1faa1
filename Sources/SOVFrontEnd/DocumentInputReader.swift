import ProcoreFormat
import SOVCore
import SpectrumFormat

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
    public func read(_ input: InputFile, format: InputFormat, emit: (ReadEvent) throws -> Void) throws {
        switch format {
        case .empty:
            throw InputFailure(path: input.name, status: .dataError, message: "the input is empty (no header row, no records)")
        case .json:
            // Document by document, in memory bounded by the largest one; a syntax error further on
            // still fails the whole input, and the caller drops what it emitted.
            let reader = ProcoreStreamReader(input, markups: procoreMarkups)
            do {
                while let item = try reader.next() {
                    try emit(.read(item))
                }
            } catch let failure as ProcoreSyntaxError {
                throw failure.inputFailure
            } catch let failure as IOFailure {
                throw InputFailure(failure)
            }
        case .xml, .csv:
            do {
                try spectrum.parse(input, format: format, emit: emit)
            } catch var unusable as InputFailure {
                unusable.path = input.name
                throw unusable
            } catch let failure as IOFailure {
                throw InputFailure(failure)
            }
        }
    }

    /// After the last input: prime contracts joined from header and SOV line records.
    public func finish(emit: (ReadEvent) throws -> Void) throws {
        try spectrum.finish(emit: emit)
    }
}
