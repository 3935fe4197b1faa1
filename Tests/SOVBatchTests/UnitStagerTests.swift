import Foundation
import SOVTestSupport
@testable import SOVBatch
import SOVCore
import SOVFrontEnd
import Testing

/// The outbox's staging thread (`UnitStager`) and the batch rename of `Outbox.publish`.
@Suite struct UnitStagerTests {
    private func unitBytes(_ index: Int) -> [UInt8] {
        Array("{\"unit\":\(index),\"pad\":\"\(String(repeating: "x", count: index * 97 % 40_000))\"}".utf8)
    }

    @Test func everyUnitIsOnDiskWithItsBytesOnceFinishReturns() throws {
        let folder = TemporaryFolder("stager")
        let outbox = Outbox(folder.file("out"))
        try outbox.create()
        let stager = try UnitStager(outbox, depth: 3)
        for index in 0..<60 { try stager.stage(unitBytes(index), name: "u\(index).json") }
        try stager.finish()
        for index in 0..<60 {
            #expect(folder.bytes("out/.staging/u\(index).json").map(Array.init) == unitBytes(index), "unit \(index)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: outbox.staging).count == 60)
    }

    @Test func aUnitThatCannotBeWrittenFailsTheBatchAndNothingAfterItIsWritten() throws {
        let folder = TemporaryFolder("stager")
        let outbox = Outbox(folder.file("out"))
        try outbox.create()
        // A file of unit 5's name is there already: a unit is never written over another file.
        folder.write("out/.staging/u5.json", "not ours")
        // Room for every unit: they wait behind unit 5 when it fails, and must then be dropped.
        let stager = try UnitStager(outbox, depth: 64)
        var thrown: IOFailure?
        do {
            for index in 0..<40 { try stager.stage(unitBytes(index), name: "u\(index).json") }
            try stager.finish()
        } catch {
            thrown = error
        }
        #expect(thrown?.path == outbox.staging + "/u5.json")
        #expect(thrown?.message.contains("exists") == true, "\(String(describing: thrown))")
        // finish says it again: the batch cannot go on as if the unit were staged.
        #expect(throws: IOFailure.self) { try stager.finish() }
        #expect(folder.text("out/.staging/u5.json") == "not ours")
        for index in 0..<5 { #expect(folder.exists("out/.staging/u\(index).json"), "unit \(index)") }
        for index in 6..<40 { #expect(!folder.exists("out/.staging/u\(index).json"), "unit \(index) written after the failure") }
    }

    @Test func aStagerLetGoWithUnitsWaitingStopsWithoutWritingThem() throws {
        let folder = TemporaryFolder("stager")
        let outbox = Outbox(folder.file("out"))
        try outbox.create()
        do {
            let stager = try UnitStager(outbox, depth: 64)
            for index in 0..<64 { try stager.stage(unitBytes(index), name: "u\(index).json") }
        }
        // Joined: nothing is written after the stager went (a batch that failed stages no more).
        let after = try FileManager.default.contentsOfDirectory(atPath: outbox.staging).count
        Thread.sleep(forTimeInterval: 0.05)
        #expect(try FileManager.default.contentsOfDirectory(atPath: outbox.staging).count == after)
    }

    @Test func publishMovesEachUnitAndNeverReplacesAFileInTheOutbox() throws {
        let folder = TemporaryFolder("stager")
        let outbox = Outbox(folder.file("out"))
        try outbox.create()
        for name in ["a.json", "b.json", "c.json"] { folder.write("out/.staging/" + name, name) }
        var told: [String] = []
        // "z.json" is not staged (another run's recovery published it): nothing to do, still told.
        try outbox.publish(["a.json", "z.json", "b.json"]) { told.append($0) }
        #expect(told == ["a.json", "z.json", "b.json"])
        #expect(folder.text("out/a.json") == "a.json" && folder.text("out/b.json") == "b.json")
        #expect(!folder.exists("out/.staging/a.json") && !folder.exists("out/z.json"))

        folder.write("out/c.json", "a consumer's file")
        #expect {
            try outbox.publish(["c.json"])
        } throws: { error in
            let failure = error as? IOFailure
            return failure?.path == outbox.folder + "/c.json" && failure?.message.contains("not replaced") == true
        }
        #expect(folder.text("out/c.json") == "a consumer's file")
        #expect(folder.text("out/.staging/c.json") == "c.json")
    }

    /// The run's own looks at the staging folder wait for the staging thread: here (with
    /// `runBatch`'s stager, which writes only when asked) a second version of a contract in the
    /// same batch finds the first one's file staged, and replaces it, every time.
    @Test func aSecondVersionInTheSameBatchReplacesTheFirstStagedOne() throws {
        let folder = TemporaryFolder()
        folder.write("a/contract.jsonl", Fixtures.jsonl([Fixtures.contract(job: "24-1017", project: "5001")]))
        folder.write("b/contract.jsonl", Fixtures.jsonl([Fixtures.contract(job: "24-1017", project: "5001", amounts: ["1000.00", "2600.00"])]))
        let (result, _, stderr) = try runBatch(.test(folder, inputs: [folder.file("a"), folder.file("b")]))
        #expect(result.status == .ok, "\(stderr)")
        #expect(folder.units("out") == ["spectrum-1-24-1017-own100.json"])
        #expect(folder.units("out/superseded") == ["spectrum-1-24-1017-own100.json"])
        #expect(try FileSystem.names(in: folder.file("out/.staging")).isEmpty)
        let published = try #require(folder.text(folder.unit("out", "spectrum-1-24-1017-own100.json")))
        #expect(published.contains("2600.00"))
        let ledger = try Ledger(path: folder.file("ledger.sqlite"))
        let units = try ledger.units()
        #expect(units.map(\.state) == [.superseded, .pending])
        #expect(units.map(\.action) == [.create, .create])
    }
}
