import Foundation
import SOVTestSupport
@testable import SOVBatch
import SOVCore
import SOVFrontEnd
import Testing

/// Ledger schema 3: on SQLite a unit's document and body are stored as one zstd frame
/// (`units.stored_as = 'zstd2'`; `zlib2`, one zlib stream, and `zlib`, a stream each, which
/// earlier builds wrote, are still read); rows written before, and every row on PostgreSQL, are
/// stored as given. Whatever the form, the ledger gives back the bytes it was given.
@Suite struct LedgerStorageTests {
    /// The two packed forms, as the tests use them.
    enum Form: String, CaseIterable, Sendable {
        case zlib, zstd

        func pack(_ bytes: [UInt8]) -> [UInt8] { self == .zlib ? ZlibPacker.pack(bytes) : ZstdPacker().pack(bytes) }
        func unpack(_ bytes: [UInt8]) -> [UInt8]? { self == .zlib ? ZlibPacker.unpack(bytes) : ZstdPacker.unpack(bytes) }
        func pack(document: String, body: [UInt8]) -> [UInt8] {
            self == .zlib ? ZlibPacker.pack(document: document, body: body) : ZstdPacker().pack(document: document, body: body)
        }
        func unpackUnit(_ bytes: [UInt8]) -> (document: ArraySlice<UInt8>, body: ArraySlice<UInt8>)? {
            self == .zlib ? ZlibPacker.unpackUnit(bytes) : ZstdPacker.unpackUnit(bytes)
        }
    }

    @Test(arguments: Form.allCases) func eachFormGivesBackWhatItPacked(_ form: Form) {
        var random = SplitMix64(seed: 19)
        let noise = (0..<70_000).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        let samples: [[UInt8]] = [
            [], Array("{}".utf8), Array(String(repeating: "{\"code\":\"01-000\",\"amount\":\"98500.00\"},", count: 3000).utf8), noise,
            Array("Owner’s rep: \"Dana\" \u{0}\u{1F} ✓".utf8),
        ]
        for sample in samples {
            let packed = form.pack(sample)
            #expect(form.unpack(packed) == sample)
            #expect(form.pack(sample) == packed)
        }
        // One packer, many values (as the packing thread keeps one): each comes back whole.
        let packer = ZstdPacker()
        for sample in samples + samples.reversed() { #expect(ZstdPacker.unpack(packer.pack(sample)) == sample) }
        #expect(form.pack(samples[2]).count < samples[2].count / 20)
    }

    @Test(arguments: Form.allCases) func aUnitsDocumentAndBodyComeBackFromOneStream(_ form: Form) {
        var random = SplitMix64(seed: 23)
        let noise = (0..<70_000).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        let cases: [(String, [UInt8])] = [
            ("", []), ("{}", []), ("", Array("body".utf8)), ("Owner’s rep: \"Dana\" \u{0}", noise),
            (String(repeating: "{\"code\":\"01-000\"},", count: 3000), Array(String(repeating: "{\"code\":\"01-000\"},", count: 3100).utf8)),
        ]
        for (document, body) in cases {
            let packed = form.pack(document: document, body: body)
            let unit = form.unpackUnit(packed)
            #expect(unit.map { Array($0.document) } == Array(document.utf8))
            #expect(unit.map { Array($0.body) } == body)
            #expect(form.pack(document: document, body: body) == packed)
        }
        // A length prefix longer than what follows, or no prefix at all, is damage.
        #expect(form.unpackUnit(form.pack([9, 0, 0, 0, 1, 2, 3])) == nil)
        #expect(form.unpackUnit(form.pack([1, 0, 0])) == nil)
        #expect(form.unpackUnit(form.pack([0, 0, 0, 0])).map { $0.document.isEmpty && $0.body.isEmpty } == true)
    }

    /// Rows earlier builds wrote still read: `zlib`, a stream each for document and body (this
    /// release's first builds), and `zlib2`, both as one zlib stream (before zstd). A form this
    /// build does not know is said, not misread.
    @Test(arguments: ["zlib", "zlib2", "brotli"]) func aUnitStoredByAnEarlierBuildStillReads(_ form: String) throws {
        let folder = TemporaryFolder()
        let ledger = try Ledger(path: folder.file("l.sqlite"))
        let run = try ledger.startRun(mode: "run", inputs: [])
        let seq = try ledger.addUnit(unit("o", body: [], document: "{}"), runId: run, name: { "u\($0).json" }).seq
        let document = "{\"lines\":[" + String(repeating: "{\"code\":\"01-000\"},", count: 200) + "{}]}"
        let body = Array(String(repeating: "{\"origin_id\":\"o:01-000\"}\n", count: 300).utf8)
        let stored: [SQLiteValue] = form == "zlib"
            ? [.blob(ZlibPacker.pack(document)), .blob(ZlibPacker.pack(body))]
            : [.blob(ZlibPacker.pack(document: document, body: body)), .blob([])]
        let raw = try SQLiteConnection(path: folder.file("l.sqlite"), readOnly: false, busyTimeoutMilliseconds: 1000)
        try raw.query("UPDATE units SET document = ?, body = ?, stored_as = ? WHERE seq = ?", stored + [.text(form), .integer(seq)])
        if form == "brotli" {
            #expect(throws: LedgerError.self) { try ledger.unitBody(seq: seq) }
            #expect(throws: LedgerError.self) { try ledger.unitDocument(seq: seq) }
        } else {
            #expect(try ledger.unitBody(seq: seq) == body)
            #expect(try ledger.unitDocument(seq: seq) == document)
        }
    }

    @Test(arguments: Form.allCases) func aDamagedStreamIsRefusedNotMisread(_ form: Form) {
        var random = SplitMix64(seed: 7)
        let text = (0..<400).map { "line \($0 % 37)-000 General Conditions \(random.next() % 1000); " }.joined()
        let packed = form.pack(Array(text.utf8))
        #expect(form.unpack(packed) == Array(text.utf8))
        // Any one byte changed, anywhere: refused, or (a bit the content does not depend on) the
        // same content; never other bytes.
        var refused = 0
        for position in stride(from: 0, to: packed.count, by: max(1, packed.count / 97)) {
            var flipped = packed
            flipped[position] ^= 0x40
            let unpacked = form.unpack(flipped)
            #expect(unpacked == nil || unpacked == Array(text.utf8), "byte \(position) of \(packed.count)")
            if unpacked == nil { refused += 1 }
        }
        #expect(refused > 80)
        #expect(form.unpack(Array(packed.dropLast(3))) == nil)
        #expect(form.unpack(packed + [0]) == nil)
        #expect(form.unpack(packed + packed) == nil)
        #expect(form.unpack(Array("{\"plain\":true}".utf8)) == nil)
        #expect(form.unpack([]) == nil)
    }

    func unit(_ origin: String, body: [UInt8], document: String) -> NewUnit {
        NewUnit(originId: origin, target: .procore, kind: "prime_contract", action: .create, version: 1, contentHash: "h-" + origin,
                document: document, body: body)
    }

    /// Bodies and documents come back byte for byte on both backends; only SQLite packs them.
    @Test(arguments: LedgerBackend.all)
    func unitsComeBackAsTheyWereGiven(_ backend: LedgerBackend) throws {
        let place = try LedgerPlace(backend)
        let ledger = try place.ledger()
        let run = try ledger.startRun(mode: "run", inputs: [])
        let document = "{\"kind\":\"prime_contract\",\"title\":\"St. Mary’s \\\"MOB\\\"\",\"lines\":[" + String(repeating: "{\"code\":\"01-000\"},", count: 500) + "{}]}"
        let bodies: [[UInt8]] = [Array("{\"kind\":\"prime_contract\"}\n".utf8), [], Array(String(repeating: "<Record/>\r\n", count: 4000).utf8)]
        var seqs: [Int64] = []
        for (index, body) in bodies.enumerated() {
            seqs.append(try ledger.addUnit(unit("o\(index)", body: body, document: document), runId: run, name: { "u\($0).json" }).seq)
        }
        for (seq, body) in zip(seqs, bodies) {
            #expect(try ledger.unitBody(seq: seq) == body)
            #expect(try ledger.unitDocument(seq: seq) == document)
        }
        let forms = try place.raw().query("SELECT stored_as FROM units ORDER BY seq", [])
        switch backend {
        case .sqlite: #expect(forms.allSatisfy { $0[0] == .text("zstd2") })
        case .postgresql: #expect(forms.allSatisfy { $0[0] == .null })
        }
        // The export recorded with its unit reads the unit's document.
        try ledger.record(
            LedgerExport(originId: "o0", target: .procore, kind: "prime_contract", contentHash: "h-o0", fileName: "u\(seqs[0]).json",
                         document: document, documentOfUnit: seqs[0]), runId: run)
        #expect(try ledger.entryDocument(originId: "o0", target: .procore) == document)
        #expect(try ledger.entries().map(\.document) == [document])
        #expect(try ledger.entry(originId: "o0", target: .procore)?.document == document)
        #expect(try place.ledger(readOnly: true).unitBody(seq: seqs[2]) == bodies[2])
    }

    /// A ledger of schema 2 gains `stored_as` (NULL for its rows, which are read as they are)
    /// and packs only what is written after.
    @Test(arguments: LedgerBackend.all)
    func aSchema2LedgerIsMigratedAndItsRowsReadAsTheyAre(_ backend: LedgerBackend) throws {
        let place = try LedgerPlace(backend)
        do {
            let ledger = try place.ledger()
            let run = try ledger.startRun(mode: "run", inputs: [])
            _ = try ledger.addUnit(unit("before", body: Array("body before".utf8), document: "{\"v\":1}"), runId: run, name: { "u\($0).json" })
        }
        // Back to what schema 2 had: the row as given, no stored_as column.
        let raw = try place.raw()
        try raw.query("UPDATE units SET body = ?, document = ?", [.blob(Array("body before".utf8)), .text("{\"v\":1}")])
        try raw.execute("ALTER TABLE units DROP COLUMN stored_as")
        try raw.execute("ALTER TABLE exports DROP COLUMN billing_items")
        try raw.setSchemaVersion(2)

        let old = try place.ledger(readOnly: true)
        #expect(try old.userVersion() == 2)
        #expect(try old.unitBody(seq: 1) == Array("body before".utf8))
        #expect(try old.unitDocument(seq: 1) == "{\"v\":1}")

        let ledger = try place.ledger()
        #expect(try ledger.userVersion() == 3)
        #expect(try ledger.unitBody(seq: 1) == Array("body before".utf8))
        #expect(try ledger.unitDocument(seq: 1) == "{\"v\":1}")
        let run = try ledger.startRun(mode: "run", inputs: [])
        let after = try ledger.addUnit(unit("after", body: Array("body after".utf8), document: "{\"v\":2}"), runId: run, name: { "u\($0).json" })
        #expect(try ledger.unitBody(seq: after.seq) == Array("body after".utf8))
        let forms = try place.raw().query("SELECT seq, stored_as FROM units ORDER BY seq", [])
        #expect(forms.map { $0[1] } == [.null, backend == .sqlite ? .text("zstd2") : .null])
    }

    /// A ledger written by the release before schema 3 (sov-run of main at schema 2 over the
    /// samples, twice, with a consumer taking one unit between: pending, delivered, superseded
    /// and update units, Procore JSON and Spectrum XML): every body and document reads back
    /// exactly as it was stored, read-only (no migration) and after the migration.
    @Test func theLastReleasesLedgerReadsAsItWas() throws {
        let folder = TemporaryFolder()
        let fixture = try #require(FileManager.default.contents(atPath: Checkout.path("Tests/Fixtures/ledger/v2-release-ledger.sqlite")))
        let path = folder.write("l.sqlite", fixture)
        var stored: [(seq: Int64, document: String, body: [UInt8])] = []
        do {
            let raw = try SQLiteConnection(path: path, readOnly: true, busyTimeoutMilliseconds: 1000)
            #expect(try raw.schemaVersion() == 2)
            for row in try raw.query("SELECT seq, document, body FROM units ORDER BY seq") {
                stored.append((row[0].integer ?? 0, try #require(row[1].text), try #require(row[2].bytes)))
            }
        }
        #expect(stored.count == 9)
        #expect(stored.allSatisfy { !$0.body.isEmpty && !$0.document.isEmpty })

        let reader = try Ledger(path: path, readOnly: true)
        for unit in stored {
            #expect(try reader.unitBody(seq: unit.seq) == unit.body)
            #expect(try reader.unitDocument(seq: unit.seq) == unit.document)
        }
        let entriesBefore = try reader.entries()
        let historyBefore = try reader.exportHistory()
        let contract = ContractKey(company: "1", job: "24-1017", customer: "OWN100")
        let itemsBefore = try #require(try reader.billingItems(of: contract))
        #expect(itemsBefore.contains("01-000") && itemsBefore.count > 3)

        let ledger = try Ledger(path: path)
        #expect(try ledger.userVersion() == 3)
        for unit in stored {
            #expect(try ledger.unitBody(seq: unit.seq) == unit.body)
            #expect(try ledger.unitDocument(seq: unit.seq) == unit.document)
        }
        #expect(try ledger.entries() == entriesBefore)
        // Billing items of contracts exported before schema 3 are rows of contract_items, read as before.
        let historyAfter = try ledger.exportHistory()
        #expect(historyAfter.billingItemsByContract == historyBefore.billingItemsByContract)
        #expect(historyAfter.contractsByProject == historyBefore.contractsByProject)
        #expect(!historyBefore.billingItemsByContract.isEmpty)
        #expect(try ledger.billingItems(of: contract) == itemsBefore)
        #expect(entriesBefore.count == 7 && entriesBefore.allSatisfy { !$0.document.isEmpty })
        #expect(try ledger.integrityCheck() == "ok")
    }

    @Test func aDamagedPackedUnitIsALedgerError() throws {
        let folder = TemporaryFolder()
        let ledger = try Ledger(path: folder.file("l.sqlite"))
        let run = try ledger.startRun(mode: "run", inputs: [])
        let seq = try ledger.addUnit(unit("o", body: Array(String(repeating: "abc", count: 100).utf8), document: "{}"), runId: run, name: { "u\($0).json" }).seq
        let raw = try SQLiteConnection(path: folder.file("l.sqlite"), readOnly: false, busyTimeoutMilliseconds: 1000)
        try raw.query("UPDATE units SET document = substr(document, 1, length(document) - 2) WHERE seq = ?", [.integer(seq)])
        #expect(throws: LedgerError.self) { try ledger.unitBody(seq: seq) }
        #expect(throws: LedgerError.self) { try ledger.unitDocument(seq: seq) }
        try raw.query("UPDATE units SET stored_as = 'lz9' WHERE seq = ?", [.integer(seq)])
        #expect(throws: LedgerError.self) { try ledger.unitDocument(seq: seq) }
    }

    /// Units of varied documents and bodies (empty, repetitive, incompressible, over 64 KB).
    func variedUnits(_ count: Int, seed: UInt64) -> [(document: String, body: [UInt8])] {
        var random = SplitMix64(seed: seed)
        return (0..<count).map { index in
            let lines = Int(random.next() % 300)
            let document = "{\"n\":\(index),\"lines\":[" + String(repeating: "{\"code\":\"01-\(index)\"},", count: lines) + "{}]}"
            let body: [UInt8] = switch index % 4 {
            case 0: []
            case 1: Array(String(repeating: "{\"origin_id\":\"o\(index):01-000\"}\n", count: lines * 10).utf8)
            case 2: (0..<Int(random.next() % 90_000)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            default: Array(document.utf8) + Array("\n".utf8)
            }
            return (document, body)
        }
    }

    /// Units are packed on the ledger's packing thread: one read back in the transaction that
    /// added it (before its pack could be written) is what was added, on both backends, and so
    /// is the export that reads its unit's document.
    @Test(arguments: LedgerBackend.all)
    func aUnitReadInItsOwnTransactionIsWhatWasAdded(_ backend: LedgerBackend) throws {
        let place = try LedgerPlace(backend)
        let ledger = try place.ledger()
        let run = try ledger.startRun(mode: "run", inputs: [])
        let units = variedUnits(24, seed: 31)
        var seqs: [Int64] = []
        try ledger.transaction {
            for (index, unit) in units.enumerated() {
                let seq = try ledger.addUnit(self.unit("o\(index)", body: unit.body, document: unit.document), runId: run, name: { "u\($0).json" }).seq
                seqs.append(seq)
                // At once, and the one before (whose pack may be on its way meanwhile).
                #expect(try ledger.unitDocument(seq: seq) == unit.document)
                if index > 0 { #expect(try ledger.unitBody(seq: seqs[index - 1]) == units[index - 1].body) }
                try ledger.record(
                    LedgerExport(originId: "o\(index)", target: .procore, kind: "prime_contract", contentHash: "h-o\(index)",
                                 fileName: "u\(seq).json", document: unit.document, documentOfUnit: seq), runId: run)
                #expect(try ledger.entryDocument(originId: "o\(index)", target: .procore) == unit.document)
            }
            let last = try #require(seqs.last)
            _ = try ledger.addUnit(self.unit("extra", body: [1, 2, 3], document: "{}"), runId: run, name: { "u\($0).json" })
            #expect(try ledger.entry(originId: "o0", target: .procore)?.document == units[0].document)
            let documents = try ledger.entries().map(\.document)
            #expect(documents.count == units.count && Set(documents) == Set(units.map(\.document)))
            #expect(try ledger.unitBody(seq: last) == units[units.count - 1].body)
        }
        for (seq, unit) in zip(seqs, units) {
            #expect(try ledger.unitDocument(seq: seq) == unit.document)
            #expect(try ledger.unitBody(seq: seq) == unit.body)
        }
    }

    /// Rolled back to a savepoint, the units after it go with their packs; the units added next
    /// (on SQLite taking the same sequence numbers again) get their own.
    @Test(arguments: LedgerBackend.all)
    func afterARollbackToASavepointNewUnitsGetTheirOwnPacks(_ backend: LedgerBackend) throws {
        let place = try LedgerPlace(backend)
        let ledger = try place.ledger()
        let run = try ledger.startRun(mode: "run", inputs: [])
        let units = variedUnits(12, seed: 37)
        func add(_ index: Int) throws -> Int64 {
            try ledger.addUnit(unit("o\(index)", body: units[index].body, document: units[index].document), runId: run, name: { "u\($0)-\(index).json" }).seq
        }
        var kept: [(seq: Int64, index: Int)] = []
        try ledger.transaction {
            kept.append((try add(0), 0))
            kept.append((try add(1), 1))
            let point = try ledger.savepoint()
            let undone = [try add(2), try add(3), try add(4)]
            try ledger.rollback(to: point)
            for seq in undone { #expect(try ledger.unit(seq: seq) == nil) }
            let again = [try add(5), try add(6), try add(7)]
            if backend == .sqlite { #expect(again == undone) }
            kept += zip(again, 5...7).map { ($0, $1) }
            let second = try ledger.savepoint()
            kept.append((try add(8), 8))
            try ledger.release(second)
            kept.append((try add(9), 9))
            for (seq, index) in kept { #expect(try ledger.unitDocument(seq: seq) == units[index].document) }
        }
        #expect(try ledger.units().map(\.seq) == kept.map(\.seq))
        for (seq, index) in kept {
            #expect(try ledger.unitDocument(seq: seq) == units[index].document)
            #expect(try ledger.unitBody(seq: seq) == units[index].body)
        }
    }

    /// A transaction that fails leaves no unit and no pack behind, and the next one packs as ever.
    @Test func aFailedTransactionLeavesNoPackBehind() throws {
        struct Stop: Error {}
        let folder = TemporaryFolder()
        let ledger = try Ledger(path: folder.file("l.sqlite"))
        let run = try ledger.startRun(mode: "run", inputs: [])
        let units = variedUnits(8, seed: 41)
        #expect(throws: Stop.self) {
            try ledger.transaction {
                for (index, unit) in units.enumerated() {
                    _ = try ledger.addUnit(self.unit("o\(index)", body: unit.body, document: unit.document), runId: run, name: { "u\($0).json" })
                }
                throw Stop()
            }
        }
        #expect(try ledger.units().isEmpty)
        let seq = try ledger.addUnit(unit("after", body: units[2].body, document: units[2].document), runId: run, name: { "u\($0).json" }).seq
        #expect(try ledger.unitBody(seq: seq) == units[2].body)
        #expect(try ledger.unitDocument(seq: seq) == units[2].document)
    }

    /// A batch of many units in one transaction, committed: every one reads back intact, from
    /// another connection too, and every stored value is one zlib stream that zlib's inflate
    /// (`ZlibPacker.unpackUnit`, which reads every ledger) takes whole.
    /// The log is copied into the database file beside the caller, who may write meanwhile;
    /// nothing is lost either way, and the file holds the batch once the ledger is gone.
    @Test func aCheckpointInTheBackgroundLosesNothingAndLeavesTheBatchInTheFile() throws {
        let folder = TemporaryFolder()
        let path = folder.file("l.sqlite")
        var seqs: [Int64] = []
        let units = variedUnits(120, seed: 53)
        let fileBefore: Int
        do {
            let ledger = try Ledger(path: path)
            let run = try ledger.startRun(mode: "run", inputs: [])
            seqs = try ledger.transaction {
                try units.enumerated().map { index, unit in
                    try ledger.addUnit(self.unit("o\(index)", body: unit.body, document: unit.document), runId: run, name: { "u\($0).json" }).seq
                }
            }
            fileBefore = FileSystem.info(path)?.size ?? 0
            ledger.checkpointInBackground()
            // Written while the copy may be going on, and a second copy asked for over the first.
            try ledger.finishRun(run, counts: RunCounts(), status: .ok)
            ledger.checkpointInBackground()
            let late = try ledger.addUnit(unit("late", body: Array("late body".utf8), document: "{\"late\":true}"), runId: run, name: { "u\($0).json" })
            seqs.append(late.seq)
        }
        #expect((FileSystem.info(path)?.size ?? 0) > fileBefore + 100_000)
        #expect(!FileSystem.exists(path + "-wal"))
        let reader = try Ledger(path: path, readOnly: true)
        for (seq, unit) in zip(seqs, units) {
            #expect(try reader.unitDocument(seq: seq) == unit.document)
            #expect(try reader.unitBody(seq: seq) == unit.body)
        }
        #expect(try reader.unitBody(seq: seqs.last!) == Array("late body".utf8))
        #expect(try reader.runs().first?.exitStatus == 0)
        #expect(try reader.integrityCheck() == "ok")
    }

    @Test func manyUnitsInOneTransactionAreAllStoredIntact() throws {
        let folder = TemporaryFolder()
        let path = folder.file("l.sqlite")
        let ledger = try Ledger(path: path)
        let run = try ledger.startRun(mode: "run", inputs: [])
        let units = variedUnits(400, seed: 43)
        let seqs = try ledger.transaction {
            try units.enumerated().map { index, unit in
                try ledger.addUnit(self.unit("o\(index)", body: unit.body, document: unit.document), runId: run, name: { "u\($0).json" }).seq
            }
        }
        let reader = try Ledger(path: path, readOnly: true)
        for (seq, unit) in zip(seqs, units) {
            #expect(try reader.unitDocument(seq: seq) == unit.document)
            #expect(try reader.unitBody(seq: seq) == unit.body)
        }
        let raw = try SQLiteConnection(path: path, readOnly: true, busyTimeoutMilliseconds: 1000)
        let rows = try raw.query("SELECT seq, document, body, stored_as FROM units ORDER BY seq")
        #expect(rows.count == units.count)
        for (row, unit) in zip(rows, units) {
            #expect(row[2] == .blob([]) && row[3] == .text("zstd2"))
            let packed = try #require(row[1].bytes)
            // A zstd frame's magic number, little-endian.
            #expect(packed.prefix(4) == [0x28, 0xB5, 0x2F, 0xFD])
            let whole = try #require(ZstdPacker.unpackUnit(packed))
            #expect(Array(whole.document) == Array(unit.document.utf8) && Array(whole.body) == unit.body)
        }
        #expect(try reader.integrityCheck() == "ok")
    }

    /// Codes already in order take a shorter way to the same value: sorted, without repeats.
    @Test func billingItemsTextIsSortedWithoutRepeatsInEveryOrder() {
        var random = SplitMix64(seed: 47)
        var lists: [[String]] = [["01-000"], ["01-000", "01-000"], ["00-000", "01-007", "02-014"], ["02-014", "01-007", "00-000"],
                                 ["a", "b", "b", "c"], ["é", "e\u{301}", "z"], ["0100", "0200", "a\"b\n"]]
        for _ in 0..<50 {
            let codes = (0..<Int(random.next() % 40 + 1)).map { _ in String(format: "%02d-%03d", Int(random.next() % 30), Int(random.next() % 5)) }
            lists.append(random.next() % 2 == 0 ? codes : Set(codes).sorted())
        }
        for codes in lists {
            var expected: [UInt8] = []
            JSONWriter.write(.array(Set(codes).sorted().map(JSONValue.string)), into: &expected)
            #expect(Ledger.billingItemsText(codes) == String(decoding: expected, as: UTF8.self))
        }
        #expect(Ledger.billingItemsText([]) == nil)
    }

    /// The byte-wise writer of plain ascending codes gives the bytes of the general way (sorted
    /// and deduplicated as Strings, written through a tree), and declines whatever it cannot
    /// write as it stands: codes out of order or repeated, non-ASCII, or needing an escape.
    @Test func plainBillingItemsTextIsTheGeneralTextByteForByte() {
        var random = SplitMix64(seed: 0xB111_17E5)
        var lists: [[String]] = [
            [""], ["", "a"], ["a", ""], ["01-000"], ["01-000", "01-000"], ["00-000", "01-007", "02-014"], ["02-014", "01-007", "00-000"],
            ["a", "b", "b", "c"], ["A", "a", "B"], ["a", "aa", "ab", "b"], ["ab", "a"], ["1", "10", "2"], ["z", "é"], ["é", "e\u{301}", "z"],
            ["e\u{301}", "é"], ["0100", "0200", "a\"b\n"], ["a\\b", "c"], ["a\u{7F}", "b"], ["a\u{1F}", "b"], ["~", "\u{7F}"],
            [" 01", "01", "01 "], ["漢字", "🚧"], ["01-000", "01-001", "01-000"],
        ]
        let alphabet: [String] = ["0", "1", "9", "-", " ", "A", "Z", "a", "z", "~", "é", "e\u{301}", "\u{301}", "\"", "\\", "\t", "\u{7F}", "漢"]
        for round in 0..<400 {
            let plainOnly = round % 2 == 0
            let codes = (0..<Int(random.next() % 12 + 1)).map { _ in
                (0..<Int(random.next() % 5)).map { _ in alphabet[Int(random.next() % UInt64(plainOnly ? 10 : alphabet.count))] }.joined()
            }
            lists.append(codes)
            // The usual case, strictly ascending: taken by the byte writer when plain.
            lists.append(Array(Set(codes)).sorted())
        }
        for codes in lists {
            let general = Ledger.billingItemsTextBySorting(codes).map { Array($0.utf8) }
            #expect(Ledger.billingItemsText(codes).map { Array($0.utf8) } == general, "\(codes)")
            if let plain = Ledger.plainBillingItemsText(codes) {
                #expect(Array(plain.utf8) == general, "\(codes)")
            }
            let isPlain = codes.allSatisfy { $0.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") } }
            let ascendingBytes = zip(codes, codes.dropFirst()).allSatisfy { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            #expect((Ledger.plainBillingItemsText(codes) != nil) == (isPlain && ascendingBytes), "\(codes)")
        }
        #expect(Ledger.billingItemsText([]) == nil)
    }

    /// A prime contract's billing items are one JSON array in exports.billing_items (schema 3);
    /// an export recorded before keeps its contract_items rows until it is recorded again, and
    /// the validator's questions get the same answers from both forms.
    @Test(arguments: LedgerBackend.all)
    func billingItemsAreOneValuePerContractAndOldRowsStillAnswer(_ backend: LedgerBackend) throws {
        let place = try LedgerPlace(backend)
        let ledger = try place.ledger()
        let run = try ledger.startRun(mode: "run", inputs: [])
        let key = ContractKey(company: "1", job: "24-1017", customer: "OWN100")
        func export(_ origin: String, _ key: ContractKey, _ codes: [String]) -> LedgerExport {
            LedgerExport(originId: origin, target: .procore, kind: "prime_contract", contentHash: "h", fileName: origin + ".json",
                         contract: key, billingItems: codes, document: "{}")
        }
        try ledger.record(export("new", key, ["0200", "0100", "0200", "a\"b\n"]), runId: run)
        let raw = try place.raw()
        #expect(try raw.query("SELECT billing_items FROM exports WHERE origin_id = 'new'", []).first?.first == .text(#"["0100","0200","a\"b\n"]"#))
        #expect(try raw.query("SELECT COUNT(*) FROM contract_items", []).first?.first == .integer(0))
        #expect(try ledger.billingItems(of: key) == ["0100", "0200", "a\"b\n"])

        // An export as schema 2 wrote it: its codes in contract_items, no billing_items.
        let oldKey = ContractKey(company: "1", job: "24-2040", customer: "OWN400")
        try ledger.record(export("old", oldKey, []), runId: run)
        for code in ["0300", "0400"] {
            try raw.query("INSERT INTO contract_items (origin_id, target, code) VALUES ('old', 'procore', ?)", [.text(code)])
        }
        #expect(try ledger.billingItems(of: oldKey) == ["0300", "0400"])
        let history = try ledger.exportHistory()
        #expect(history.billingItemsByContract[key] == ["0100", "0200", "a\"b\n"])
        #expect(history.billingItemsByContract[oldKey] == ["0300", "0400"])
        #expect(try ledger.billingItems(of: ContractKey(company: "1", job: "none", customer: "X")) == nil)

        // Recorded again: the rows go, the value takes their place.
        try ledger.record(export("old", oldKey, ["0500"]), runId: run)
        #expect(try raw.query("SELECT COUNT(*) FROM contract_items", []).first?.first == .integer(0))
        #expect(try ledger.billingItems(of: oldKey) == ["0500"])

        try raw.query("UPDATE exports SET billing_items = 'not json' WHERE origin_id = 'old'", [])
        #expect(throws: LedgerError.self) { try ledger.billingItems(of: oldKey) }
    }
}
