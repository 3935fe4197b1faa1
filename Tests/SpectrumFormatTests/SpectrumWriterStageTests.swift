
#if canImport(Glibc)
import Glibc
import SOVCLI
import SOVCore
import SOVFrontEnd
import SOVTestSupport
import SpectrumFormat
import Testing
#endif

/// `sov-emit --to spectrum` end to end on files: canonical JSON Lines in, envelope(s) and rejects out.
@Suite("Spectrum writer: the --to spectrum stage")
struct SpectrumWriterStageTests {
    typealias F = WriterFixture

    struct Run {
        var status: SOVCore.ExitStatus
        var stdout: String
        var rejects: [JSONValue]
        var report: StageReport
    }

    func run(_ scratch: TemporaryFolder, inputs: [String], config: SpectrumExportConfig = SpectrumExportConfig(authorizationId: "SOVTEST"), outDir: String? = nil, keyLookup: @escaping (ChangeOrder) -> ContractKey? = { _ in nil }) throws -> Run {
        let report = StageReport(stage: "sov-emit", rejects: try OutputSink(creating: scratch.file("rejects.jsonl")), human: try OutputSink(creating: scratch.file("stderr.txt")))
        var generator = SplitMix64(seed: 3)
        let status = SpectrumExportStage.run(
            inputPaths: inputs, writer: SpectrumChangeRequestWriter(config: config, keyLookup: keyLookup), outDir: outDir,
            report: report, output: try OutputSink(creating: scratch.file("stdout.xml")), generator: &generator)
        let rejects = try scratch.jsonLines("rejects.jsonl")
        return Run(status: status, stdout: try #require(scratch.text("stdout.xml")), rejects: rejects, report: report)
    }

    static func order(_ number: String, id: String) -> ChangeOrder {
        var order = F.order(number: number)
        order.procore?.changeOrderId = id
        return order
    }

    static let contract = PrimeContract(
        origin: Origin(system: .spectrum, company: "1", job: "24-1017", customer: "OWN100"),
        source: SourceLocation(file: "jobs.csv", line: 2), number: "24-1017", customer: Party(code: "OWN100"),
        originalAmount: F.money("100.00"), lines: [SOVLine(code: "1000", amount: F.money("100.00"))])

    func batch() -> String {
        var unmarked = Self.order("2", id: "902")
        unmarked.computed = nil
        return [
            CanonicalDocument.changeOrder(Self.order("1", id: "901")).jsonLine,
            CanonicalDocument.primeContract(Self.contract).jsonLine,
            "{not json",
            CanonicalDocument.changeOrder(unmarked).jsonLine,
            "",
            CanonicalDocument.changeOrder(Self.order("3", id: "903")).jsonLine,
        ].joined(separator: "\n") + "\n"
    }

    @Test func oneEnvelopeForTheBatchOnStdout() throws {
        let scratch = TemporaryFolder()
        let input = scratch.write("batch.jsonl", batch())
        let result = try run(scratch, inputs: [input])
        #expect(result.status == .someRejected)
        #expect(result.report.documentsIn == 5)
        #expect(result.report.documentsOut == 2)
        #expect(result.report.rejected == 3)
        let envelope = try #require(LibXMLReadBack.parse(result.stdout))
        #expect(envelope.records.count == 8)
        #expect(Set(envelope.records.map { $0["Change_Request_Number"]! }) == ["1", "3"])
        let revenue = try envelope.records.compactMap { $0["CR_Revenue"] }.map { try Money.parse($0) }.reduce(F.money("0.00"), +)
        #expect(revenue == F.money("8738.52"))  // two change orders of 4369.26
        #expect(result.stdout.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<soap:Envelope"))
        #expect(result.stdout.split(separator: "<soap:Envelope", omittingEmptySubsequences: false).count == 2)

        let codes = result.rejects.map { $0["diagnostics"]?.arrayValue?.first?["code"]?.stringValue.flatMap(DiagnosticCode.init(rawValue:)) }
        #expect(codes == [.FMT009, .FMT009, .FMT004])
        #expect(result.rejects[0]["diagnostics"]?.arrayValue?.first?["message"]?.stringValue?.contains("prime contracts go to Procore") == true)
        #expect(result.rejects[0]["document"]?["kind"]?.stringValue == "prime_contract")
        #expect(result.rejects[1]["record"] == .string("{not json"))
        #expect(result.rejects[2]["document"]?["number"]?.stringValue == "2")
        let human = try #require(scratch.text("stderr.txt"))
        #expect(human.contains("sov-emit: 5 in, 2 out, 3 rejected"))
    }

    @Test func oneFilePerChangeOrderWithOut() throws {
        let scratch = TemporaryFolder()
        let input = scratch.write("batch.jsonl", batch())
        let outDir = scratch.file("out")
        let result = try run(scratch, inputs: [input], config: SpectrumExportConfig(authorizationId: "SOVTEST", layout: .changeOrder), outDir: outDir)
        #expect(result.status == .someRejected)
        #expect(result.stdout.isEmpty)
        for (number, id) in [("1", "901"), ("3", "903")] {
            let text = try #require(scratch.text("out/procore_pcco_\(id).xml"))
            let envelope = try #require(LibXMLReadBack.parse(text))
            #expect(envelope.records.count == 2)
            #expect(envelope.records.allSatisfy { $0.element == "ARChangeOrder" && $0["Change_Order_Number"] == number })
        }
        #expect(!scratch.exists("out/procore_pcco_902.xml"))
    }

    @Test func nothingOnStdoutWhenEverythingIsRejected() throws {
        let scratch = TemporaryFolder()
        var order = Self.order("1", id: "901")
        order.origin = Origin(system: .procore, number: "1")
        let input = scratch.write("one.jsonl", CanonicalDocument.changeOrder(order).jsonLine + "\n")
        let result = try run(scratch, inputs: [input])
        #expect(result.status == .someRejected)
        #expect(result.stdout.isEmpty)
        #expect(result.rejects.first?["diagnostics"]?.arrayValue?.first?["code"]?.stringValue == "MAP003")

        // The same document passes once the project map knows its project.
        let mapped = try run(scratch, inputs: [input], keyLookup: { $0.procore?.projectId == "562949953421312" ? ContractKey(company: "1", job: "24-1017", customer: "OWN100") : nil })
        #expect(mapped.status == .ok)
        #expect(LibXMLReadBack.parse(mapped.stdout)?.records.count == 4)
    }

    @Test func missingAuthorizationIsOneWarningAndAMissingInputIsExit66() throws {
        let scratch = TemporaryFolder()
        let input = scratch.write("one.jsonl", CanonicalDocument.changeOrder(Self.order("1", id: "901")).jsonLine + "\n")
        let result = try run(scratch, inputs: [input, scratch.file("absent.jsonl")], config: SpectrumExportConfig())
        #expect(result.status == .noInput)
        #expect(result.report.documentsOut == 1)
        // One for Authorization_ID, one for the revenue-only line.
        #expect(result.report.warnings == 2)
        let human = try #require(scratch.text("stderr.txt"))
        #expect(human.contains("SPECTRUM_AUTHORIZATION_ID"))
        let envelope = try #require(LibXMLReadBack.parse(result.stdout))
        #expect(envelope.records.allSatisfy { $0["Authorization_ID"] == "" })
    }

    @Test func theAuthorizationWarningIsSaidOncePerRunAndOnlyWhenSomethingIsWritten() throws {
        let scratch = TemporaryFolder()
        let two = scratch.write("two.jsonl", [Self.order("1", id: "901"), Self.order("2", id: "902")].map { CanonicalDocument.changeOrder($0).jsonLine + "\n" }.joined())
        let written = try run(scratch, inputs: [two], config: SpectrumExportConfig())
        #expect(written.report.documentsOut == 2)
        // One for Authorization_ID, one revenue-only warning per change order.
        #expect(written.report.warnings == 3)
        #expect(try #require(scratch.text("stderr.txt")).ranges(of: "SPECTRUM_AUTHORIZATION_ID").count == 1)

        let empty = scratch.write("empty.jsonl", "")
        let nothing = try run(scratch, inputs: [empty], config: SpectrumExportConfig())
        #expect(nothing.status == .ok)
        #expect(nothing.report.warnings == 0)
        #expect(nothing.stdout.isEmpty)
    }
}

@Suite("Spectrum writer: export configuration")
struct SpectrumWriterConfigTests {
    /// The `[spectrum]` settings of a configuration, as every command reads them.
    func config(_ json: String, environment: String? = nil) throws -> SpectrumExportConfig {
        let settings = try BatchSettings.parse(ConfigFile.parse(Array(json.utf8), name: "sov.json"), name: "site.toml", base: ".")
        return try settings.spectrumExport(environmentAuthorizationId: environment)
    }

    @Test func defaults() throws {
        let config = try config("{}")
        #expect(config == SpectrumExportConfig())
        #expect(config.authorizationId == nil)
        #expect(config.changeRequestStatus == "A")
        #expect(config.layout == .changeRequest)
    }

    @Test func fileThenEnvironment() throws {
        let file = """
            {"spectrum": {"authorization_id": "FROMFILE", "cr_status": "AP", "number_prefix": "P",
              "layout": "change-order", "company": 1, "customer": "OWN100"}}
            """
        #expect(try config(file) == SpectrumExportConfig(authorizationId: "FROMFILE", changeRequestStatus: "AP", numberPrefix: "P", layout: .changeOrder, company: "1", customer: "OWN100"))
        #expect(try config(file, environment: "FROMENV").authorizationId == "FROMENV")
        #expect(try config(file, environment: "  ").authorizationId == "FROMFILE")
    }

    @Test func longTextIsCutOrReject() throws {
        #expect(try config("{}").longText == .cut)
        #expect(try config(#"{"spectrum": {"long_text": "reject"}}"#).longText == .reject)
        #expect(try config(#"{"spectrum": {"long_text": "cut"}}"#).longText == .cut)
        do {
            _ = try config(#"{"spectrum": {"long_text": "truncate"}}"#)
            Issue.record("long_text = truncate must be refused")
        } catch let error as OptionsError {
            #expect(error.message == "site.toml: 'spectrum.long_text' must be cut or reject, not 'truncate'")
        }
    }

    /// A misspelt key (`cr_stat`) would otherwise leave the default in place without a word.
    @Test func anUnknownKeyInTheSpectrumTableIsRefused() throws {
        do {
            _ = try config(#"{"inputs": ["x"], "spectrum": {"cr_stat": "AP"}}"#)
            Issue.record("an unknown key must be refused")
        } catch let error as OptionsError {
            #expect(error.message == "site.toml: unknown key 'cr_stat' in [spectrum]; known keys there: authorization_id, cr_status, co_status, number_prefix, layout, company, job, customer, long_text, dex_url, authorization_id_file")
        }
        // Every documented key is known.
        let all = #"{"spectrum": {"authorization_id": "X", "cr_status": "AP", "co_status": "A", "number_prefix": "P", "layout": "change-order", "company": "1", "job": "24-1017", "customer": "OWN100"}}"#
        #expect(try config(all).changeRequestStatus == "AP")
    }

    @Test func badSettingsAreSaidBeforeAnyOutput() throws {
        #expect(throws: OptionsError.self) { try config(#"{"spectrum": {"layout": "flat"}}"#) }
        #expect(throws: OptionsError.self) { try config(#"{"spectrum": {"company": "1234"}}"#) }
        #expect(throws: OptionsError.self) { try config(#"{"spectrum": "A"}"#) }
        #expect(throws: OptionsError.self) { try config("{}", environment: String(repeating: "x", count: 21)) }
        #expect(SpectrumExportConfig(changeOrderStatus: "ABC").problems().map(\.code) == [.CO005])
        #expect(SpectrumExportConfig(changeRequestStatus: "").problems().map(\.code) == [.FMT004])
    }
}
