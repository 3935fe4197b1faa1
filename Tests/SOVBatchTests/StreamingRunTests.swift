import Foundation
import SOVBatch
import SOVCore
import SOVFrontEnd
import SOVTestSupport
import Testing

/// sov-run streams a batch (FrontEnd's streaming mode): prime contracts are exported as they are
/// read, inside the ledger transaction, under a savepoint per input. These hold the semantics
/// that streaming must not change.
@Suite struct StreamingRunTests {
    static let header = "Company_Code,Job_Number,Customer_Code,Job_Description,Original_Contract,Billing_Item,Line_Amount\n"

    static func options(_ folder: TemporaryFolder, _ inputs: [String], out: String? = "out") -> BatchOptions {
        let map = folder.write("map.csv", """
            company,job,customer,project_id,prime_contract_id
            1,24-7001,OWN900,100001,
            1,24-7002,OWN900,100002,
            1,24-7003,OWN900,100003,
            1,24-7004,OWN900,100004,

            """)
        var options = BatchOptions.test(folder, inputs: inputs, out: out)
        options.projectMap = map
        return options
    }

    /// The second input's first contract is read (and, streaming, exported) before its rows turn
    /// out not grouped: the input is unusable as a whole and contributes nothing, not a unit, a
    /// ledger row or a reject, while the inputs around it go through.
    @Test func anInputUnusableHalfwayIsRolledBack() throws {
        let folder = TemporaryFolder()
        let good = folder.write("a-good.csv", Self.header + "1,24-7001,OWN900,A,100.00,01,100.00\n")
        let bad = folder.write("b-bad.csv", Self.header + """
            1,24-7002,OWN900,B,50.00,01,50.00
            1,24-7003,OWN900,C,70.00,01,70.00
            1,24-7003,OWN900,C,70.00,02,oops
            1,24-7002,OWN900,B,50.00,02,0.00

            """)
        let after = folder.write("c-good.csv", Self.header + "1,24-7004,OWN900,D,10.00,01,10.00\n")
        let options = Self.options(folder, [good, bad, after])
        let (result, _, stderr) = try runBatch(options, pipeline: try BatchPipeline.standard(options))
        #expect(result.failures.map(\.path) == [bad], "\(stderr)")
        #expect(result.outcomes.map(\.action) == [.exported, .exported])
        #expect(result.outcomes.compactMap(\.originId) == ["spectrum:1:24-7001:OWN900", "spectrum:1:24-7004:OWN900"])
        let ledger = try Ledger(path: folder.file("ledger.sqlite"))
        #expect(try ledger.entries().map(\.originId) == ["spectrum:1:24-7001:OWN900", "spectrum:1:24-7004:OWN900"])
        let units = folder.units("out")
        #expect(units.count == 2)
        #expect(!units.contains { $0.contains("24-7002") || $0.contains("24-7003") })
        #expect(try FileSystem.names(in: folder.file("out/.staging")).isEmpty)
        // Nothing of the bad input in the rejects file (its failure is said, without diagnostics lines here).
        let rejects = (try? String(contentsOfFile: folder.file("rejects.jsonl"), encoding: .utf8)) ?? ""
        #expect(!rejects.contains("oops"))
        #expect(!rejects.contains("24-7003"))
        #expect(try ledger.integrityCheck() == "ok")
    }

    /// Change orders wait for the end of the batch, set aside on disk: those of an input found
    /// unusable halfway are taken back with it, and the others still go, in the order read.
    @Test func changeOrdersSetAsideByAnInputUnusableHalfwayAreTakenBack() throws {
        let folder = TemporaryFolder()
        let header = "Company_Code,Job_Number,Customer_Code,Change_Order_Number,Description,Status_Code,Change_Order_Date,Approved_Date,CO_Billing_Item_Code,Revenue\n"
        let map = folder.write("map.csv", "company,job,customer,project_id,prime_contract_id\n1,24-1031,DOT300,2791102,31612230\n")
        let good = folder.write("a-good.csv", header + "1,24-1031,DOT300,001,First,A,11/04/2024,11/18/2024,05-100,100.00\n")
        let bad = folder.write("b-bad.csv", header + """
            1,24-1031,DOT300,002,Second,A,11/04/2024,11/18/2024,05-100,50.00
            1,24-1031,DOT300,003,Third,A,11/04/2024,11/18/2024,05-100,70.00
            1,24-1031,DOT300,002,Second,A,11/04/2024,11/18/2024,05-200,20.00

            """)
        let after = folder.write("c-good.csv", header + "1,24-1031,DOT300,004,Fourth,A,11/04/2024,11/18/2024,05-100,10.00\n")
        var options = BatchOptions.test(folder, inputs: [good, bad, after], out: "out")
        options.projectMap = map
        let (result, _, stderr) = try runBatch(options, pipeline: try BatchPipeline.standard(options))
        #expect(result.failures.map(\.path) == [bad], "\(stderr)")
        #expect(result.outcomes.map(\.action) == [.exported, .exported], "\(stderr)")
        #expect(result.outcomes.map(\.name).map { $0.contains("001") || $0.contains("004") } == [true, true])
        #expect(Set(folder.units("out")) == ["spectrum-1-24-1031-dot300-co-001.json", "spectrum-1-24-1031-dot300-co-004.json"])
        #expect(!stderr.contains("Second") && !stderr.contains("Third"))
    }

    /// On standard output, an input unusable halfway writes nothing: its lines are held until it
    /// was read whole.
    @Test func standardOutputGetsNothingOfAnInputUnusableHalfway() throws {
        let folder = TemporaryFolder()
        let bad = folder.write("bad.csv", Self.header + """
            1,24-7002,OWN900,B,50.00,01,50.00
            1,24-7003,OWN900,C,70.00,01,70.00
            1,24-7002,OWN900,B,50.00,02,0.00

            """)
        let good = folder.write("good.csv", Self.header + "1,24-7001,OWN900,A,100.00,01,100.00\n")
        let options = Self.options(folder, [bad, good], out: nil)
        let (result, stdout, _) = try runBatch(options, pipeline: try BatchPipeline.standard(options))
        #expect(result.failures.count == 1)
        let lines = stdout.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.contains("spectrum:1:24-7001:OWN900") == true)
        #expect(!stdout.contains("24-7002"))
    }

    /// Outcomes keep no documents unless a report asks for them (memory does not grow with the input).
    @Test func outcomesLetDocumentsGoWithoutAReport() throws {
        let folder = TemporaryFolder()
        let input = folder.write("a.csv", Self.header + "1,24-7001,OWN900,A,100.00,01,100.00\n1,24-7004,OWN900,D,10.00,01,10.00\n")
        let plainOptions = Self.options(folder, [input])
        let (plain, _, _) = try runBatch(plainOptions, pipeline: try BatchPipeline.standard(plainOptions))
        #expect(plain.outcomes.map(\.action) == [.exported, .exported])
        #expect(plain.outcomes.allSatisfy { $0.document == nil })
        let other = TemporaryFolder()
        let again = other.write("a.csv", Self.header + "1,24-7001,OWN900,A,100.00,01,100.00\n")
        var options = Self.options(other, [again])
        options.report = other.file("report.html")
        let (reported, _, _) = try runBatch(options, pipeline: try BatchPipeline.standard(options))
        #expect(reported.outcomes.map(\.action) == [.exported])
        #expect(reported.outcomes.first?.document?.originId == "spectrum:1:24-7001:OWN900")
    }

    /// The canonical document is written to the ledger once, with its unit: the export's record
    /// reads it from there, for the change description and updates of the next run.
    @Test func theExportReadsItsDocumentFromItsUnit() throws {
        let folder = TemporaryFolder()
        let input = folder.write("a.csv", Self.header + "1,24-7001,OWN900,A,100.00,01,100.00\n")
        let options = Self.options(folder, [input])
        _ = try runBatch(options, pipeline: try BatchPipeline.standard(options))
        let ledger = try Ledger(path: folder.file("ledger.sqlite"))
        let entry = try #require(try ledger.entries().first)
        let unit = try #require(try ledger.latestUnit(originId: entry.originId, target: entry.target))
        #expect(!entry.document.isEmpty)
        #expect(try ledger.unitDocument(seq: unit.seq) == entry.document)
        #expect(try ledger.entryDocument(originId: entry.originId, target: entry.target) == entry.document)
        // Changed: the update says what changed against that document.
        let changed = folder.write("a.csv", Self.header + "1,24-7001,OWN900,A,120.00,01,120.00\n")
        let (result, _, _) = try runBatch(Self.options(folder, [changed]), pipeline: try BatchPipeline.standard(options))
        #expect(result.outcomes.map(\.action) == [.updated])
        #expect(result.outcomes.first?.changes.isEmpty == false)
    }
}
