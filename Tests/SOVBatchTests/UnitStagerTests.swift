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

/// Unit file names, against the way they were first made (strings joined, the whole hash
/// written out): a name is in the ledger and on the consumer's side, so it must never change.
@Suite struct UnitNameTests {
    private static func firstWay(seq: Int64, originId: String, fileExtension: String) -> String {
        let number = String(seq)
        let padded = String(repeating: "0", count: max(0, 8 - number.count)) + number
        let hash = String(SHA256.hex(originId.utf8).prefix(10))
        var slug = ""
        var pendingDash = false
        for byte in originId.utf8 {
            let lower: UInt8
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): lower = byte
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): lower = byte + 32
            default:
                pendingDash = !slug.isEmpty
                continue
            }
            if slug.utf8.count + (pendingDash ? 2 : 1) > 60 { break }
            if pendingDash { slug.append("-") }
            pendingDash = false
            slug.unicodeScalars.append(Unicode.Scalar(lower))
        }
        return "\(padded)-\(slug.isEmpty ? "" : slug + "-")\(hash).\(fileExtension)"
    }

    @Test func namesAreMadeAsTheyAlwaysWere() {
        var random = SplitMix64(seed: 42)
        let pieces = ["spectrum", ":", "1", "24-1017", "OWN100", "/", "é", "Ü", "-", " ", "___", "x", "ZZ", "09", "✓", "\u{0}", "a.b", "CO-003", "::"]
        var ids = ["", ":", "---", "spectrum:1:24-1017:OWN100", "procore:pcco:77", String(repeating: "Ab9-", count: 40), "ÉÉÉ", "a", String(repeating: "z", count: 61)]
        for _ in 0..<2_000 {
            ids.append((0..<Int(random.next() % 12)).map { _ in pieces[Int(random.next() % UInt64(pieces.count))] }.joined())
        }
        let seqs: [Int64] = [1, 9, 42, 12_345_678, 99_999_999, 100_000_000, 1_234_567_890_123]
        for (index, id) in ids.enumerated() {
            let seq = seqs[index % seqs.count]
            for ext in ["json", "xml"] {
                #expect(UnitName.make(seq: seq, originId: id, fileExtension: ext) == Self.firstWay(seq: seq, originId: id, fileExtension: ext), "\(id)")
            }
        }
        #expect(UnitName.make(seq: 42, originId: "spectrum:1:24-1017:OWN100", fileExtension: "json").hasPrefix("00000042-spectrum-1-24-1017-own100-"))
    }
}
