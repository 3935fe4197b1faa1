import Testing
import SOVCore
import SOVTestSupport
@testable import SpectrumFormat

#if canImport(Glibc)
import Glibc
#endif

/// Shared helpers of the reader tests (the file name keeps to the SpectrumReader*Tests pattern).
enum ReaderTestSupport {
    static func fixture(_ name: String) -> String { Checkout.path("Tests/Fixtures/spectrum/\(name)") }
    static func sample(_ name: String) -> String { Checkout.path("samples/\(name)") }

    /// All records of an XML text, or the error that made it unusable (with the records before it).
    static func xmlRecords(_ text: String) throws -> (records: [Record], failure: InputFailure?) {
        let scratch = TemporaryFolder()
        let path = scratch.write("input.xml", text)
        return try xmlRecords(path: path)
    }

    static func xmlRecords(path: String) throws -> (records: [Record], failure: InputFailure?) {
        let reader = try XMLRecordReader(InputFile(path: path))
        var records: [Record] = []
        do {
            while let item = try reader.next() {
                if case .record(let record) = item { records.append(record) }
            }
        } catch let failure as InputFailure {
            return (records, failure)
        }
        return (records, nil)
    }

    /// What a `sov-parse` run over `paths` produces, with its per-input holding of documents.
    struct ParseResult {
        var documents: [CanonicalDocument] = []
        var rejects: [Reject] = []
        var warnings: [Diagnostic] = []
        /// Inputs unusable as a whole, by path.
        var unusable: [String: InputFailure] = [:]

        var contracts: [PrimeContract] {
            documents.compactMap { if case .primeContract(let contract) = $0 { contract } else { nil } }
        }

        var changeOrders: [ChangeOrder] {
            documents.compactMap { if case .changeOrder(let order) = $0 { order } else { nil } }
        }

        var rejectCodes: [DiagnosticCode] { rejects.flatMap { $0.diagnostics.filter(\.isError).map(\.code) } }
    }

    static func parse(_ paths: [String], options: SpectrumReadOptions = SpectrumReadOptions()) throws -> ParseResult {
        let parser = SpectrumParser(options: options)
        var result = ParseResult()
        func take(_ event: ReadEvent, into held: inout [CanonicalDocument]) {
            switch event {
            case .read(.accepted(let document)), .read(.held(let document)): held.append(document)
            case .read(.rejected(let reject)): result.rejects.append(reject)
            case .warning(let warning): result.warnings.append(warning)
            }
        }
        for path in paths {
            let input = try InputFile(path: path)
            let format = try InputFormat.sniff(input)
            var held: [CanonicalDocument] = []
            do {
                try parser.parse(input, format: format) { take($0, into: &held) }
                result.documents += held
            } catch let failure as InputFailure {
                result.unusable[path] = failure
            }
        }
        var joined: [CanonicalDocument] = []
        try parser.finish { take($0, into: &joined) }
        result.documents += joined
        return result
    }

    /// Parses texts written to temporary files (named by `suffix`), in order.
    static func parse(texts: [String], suffix: String = ".csv", options: SpectrumReadOptions = SpectrumReadOptions()) throws -> ParseResult {
        let scratch = TemporaryFolder()
        let paths = texts.enumerated().map { scratch.write("input\($0.offset + 1)\(suffix)", $0.element) }
        return try parse(paths, options: options)
    }

    /// A staged record for the mappers, recognised under `profile`.
    static func staged(_ fields: KeyValuePairs<String, String>, line: Int = 2, file: String = "test.csv", profile: SpectrumProfile = .standard) -> StagedRecord {
        let record = Record(file: file, line: line, fields: fields)
        let binding = LayoutBinding(names: record.names, profile: profile)
        var recognised = record
        recognised.layout = binding.layout
        return StagedRecord(record: recognised, binding: binding)
    }
}

@Suite("Reader test support")
struct SpectrumReaderSupportTests {
    @Test("fixtures are found from the test file's path")
    func fixturesExist() throws {
        let input = try InputFile(path: ReaderTestSupport.fixture("doctype.xml"))
        #expect(try InputFormat.sniff(input) == .xml)
    }
}

extension InputFailure {
    /// The one finding a reader's unusable input carries.
    var diagnostic: Diagnostic { diagnostics[0] }
}
