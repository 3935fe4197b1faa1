import CSQLite
import Foundation
import SOVTestSupport
@testable import SOVBatch
import SOVCore
import Testing

struct LedgerTests {
    /// A ledger at `path` holding one exported contract (24-1017), closed again.
    func ledgerWithOneContract(at path: String) throws {
        let ledger = try Ledger(path: path)
        try ledger.record(export(Fixtures.contract(job: "24-1017")), runId: try ledger.startRun(mode: "run", inputs: []))
    }

    func export(_ document: CanonicalDocument, project: String? = nil, changes: [String] = []) -> LedgerExport {
        var items: [String] = []
        if case .primeContract(let contract) = document { items = contract.lines.map(\.code) }
        return LedgerExport(
            originId: document.originId, target: ExportTarget(for: document), kind: document.kind, contentHash: ContentHash.of(document),
            fileName: ExportTarget(for: document).fileName(for: document), projectId: project,
            contract: document.origin.contractKey, billingItems: items, document: String(decoding: ContentHash.comparableText(document), as: UTF8.self), changes: changes)
    }

    @Test func createsAVersionedWALDatabase() throws {
        let folder = TemporaryFolder()
        let ledger = try Ledger(path: folder.file("l.sqlite"))
        #expect(try ledger.integrityCheck() == "ok")
        #expect(try ledger.entries().isEmpty)
        let raw = try SQLiteConnection(path: folder.file("l.sqlite"), readOnly: true, busyTimeoutMilliseconds: 1000)
        #expect(try raw.query("PRAGMA journal_mode").first?.first?.text == "wal")
        #expect(try raw.query("PRAGMA user_version").first?.first?.integer == Int64(Ledger.schemaVersion))
    }

    /// A new ledger is made of 64 KB pages; an existing one keeps its own (SQLite cannot change
    /// a WAL database's page size), and is read and written as before.
    @Test func aNewLedgerHas64KBPagesAndAnOldOneKeepsItsOwn() throws {
        let folder = TemporaryFolder()
        try ledgerWithOneContract(at: folder.file("new.sqlite"))
        let fresh = try SQLiteConnection(path: folder.file("new.sqlite"), readOnly: true, busyTimeoutMilliseconds: 1000)
        #expect(try fresh.query("PRAGMA page_size").first?.first?.integer == 65536)

        // A ledger made before, in 4 KB pages.
        do {
            let old = try SQLiteConnection(path: folder.file("old.sqlite"), readOnly: false, busyTimeoutMilliseconds: 1000)
            _ = try old.query("PRAGMA page_size = 4096")
            _ = try old.query("PRAGMA journal_mode = WAL")
        }
        try ledgerWithOneContract(at: folder.file("old.sqlite"))
        let ledger = try Ledger(path: folder.file("old.sqlite"))
        #expect(try ledger.entries().map(\.originId) == [Fixtures.contract(job: "24-1017").originId])
        #expect(try ledger.integrityCheck() == "ok")
        let reread = try SQLiteConnection(path: folder.file("old.sqlite"), readOnly: true, busyTimeoutMilliseconds: 1000)
        #expect(try reread.query("PRAGMA page_size").first?.first?.integer == 4096)
    }

    /// Text is bound from the String's own bytes; what SQLite stores is what it stored when it
    /// was handed a C string: the text up to its first NUL, empty text as text (not NULL), any
    /// length. A parameter a call leaves out is NULL, whatever the call before bound.
    @Test func textIsBoundAsACStringWasAndLeftOutParametersAreNull() throws {
        let folder = TemporaryFolder()
        let connection = try SQLiteConnection(path: folder.file("bind.sqlite"), readOnly: false, busyTimeoutMilliseconds: 1000)
        var texts = ["", "a", "ab\u{0}cd", "\u{0}", "\u{0}tail", "é漢🚧", "e\u{301}", "fifteen bytes!!", "sixteen bytes!!!", "'; DROP TABLE x; --"]
        texts.append(String(repeating: "0123456789", count: 10_000))
        texts.append(String(repeating: "é", count: 5_000) + "\u{0}" + "after")
        texts.append(String("  padded field  ".dropFirst(2).dropLast(2)))
        for text in texts {
            let row = try #require(try connection.query("SELECT ?, typeof(?2), hex(CAST(?2 AS BLOB))", [.text(text), .text(text)]).first)
            let expected = String(decoding: text.utf8.prefix { $0 != 0 }, as: UTF8.self)
            #expect(row[0] == .text(expected), "\(text.prefix(20))")
            #expect(row[1] == .text("text"))
            #expect(row[2] == .text(expected.utf8.map { String(format: "%02X", $0) }.joined()))
        }
        let both = try connection.query("SELECT ?, ?", [.text("first"), .integer(2)])
        #expect(both.first == [.text("first"), .integer(2)])
        let one = try connection.query("SELECT ?, ?", [.text("again")])
        #expect(one.first == [.text("again"), .null])
        let none = try connection.query("SELECT ?, ?")
        #expect(none.first == [.null, .null])
    }

    /// The ledger's SQLite keeps no memory statistics (its allocations take no mutex): what it
    /// has in use reads 0 while a ledger is open and has run statements.
    @Test func sqliteKeepsNoMemoryStatistics() throws {
        let folder = TemporaryFolder()
        try ledgerWithOneContract(at: folder.file("l.sqlite"))
        let ledger = try Ledger(path: folder.file("l.sqlite"))
        #expect(try ledger.entries().count == 1)
        #expect(sqlite3_memory_used() == 0)
    }

    /// Statements are found again by where their SQL lies; text made anew for each call, of the
    /// same length (which may come to lie where freed text lay), short text, literals and static
    /// text each run their own statement.
    @Test func eachSQLTextRunsItsOwnStatement() throws {
        let folder = TemporaryFolder()
        let connection = try SQLiteConnection(path: folder.file("statements.sqlite"), readOnly: false, busyTimeoutMilliseconds: 1000)
        for round in 0..<3 {
            for value in 100..<400 {
                // Made at each call: freed after it, the same length every time.
                let sql = "SELECT \(value) AS value, ? AS bound -- padding to be long"
                #expect(try connection.query(sql, [.integer(Int64(round))]).first == [.integer(Int64(value)), .integer(Int64(round))])
                #expect(try connection.query("SELECT 1 AS literal_value_long_enough", []).first == [.integer(1)])
                #expect(try connection.query("SELECT 2", []).first == [.integer(2)])
                #expect(try connection.query(Self.staticSQL, [.text("t\(value)")]).first == [.text("t\(value)")])
            }
        }
    }

    static let staticSQL = "SELECT ? AS " + String(repeating: "x", count: 20)

    /// Time stamps are written digit by digit for years 0 to 9999, as the padded interpolation
    /// (kept for other years) writes them.
    @Test func timeStampsAreThePaddedOnes() {
        var random = SplitMix64(seed: 0x7173_7A3D)
        var seconds: [Int] = [0, 1, 59, 60, 3599, 86_399, 86_400, -1, -86_400, 951_782_400, 1_741_944_413, 4_102_444_799, 4_102_444_800,
                              253_402_300_799, 253_402_300_800, -62_135_596_800, -62_167_219_200, -62_167_219_201, -62_198_755_201]
        for _ in 0..<3_000 { seconds.append(Int(Int64(bitPattern: random.next()) % 400_000_000_000)) }
        for second in seconds {
            var time = time_t(second)
            var parts = tm()
            gmtime_r(&time, &parts)
            let stamp = Timestamp.format(seconds: second)
            #expect(Array(stamp.utf8) == Array(Timestamp.paddedFormat(parts).utf8), "\(second)")
        }
        #expect(Timestamp.format(seconds: 1_741_944_413) == "2025-03-14T09:26:53Z")
    }

    @Test func recordsExportsUpdatesAndRuns() throws {
        let folder = TemporaryFolder()
        let ledger = try Ledger(path: folder.file("l.sqlite"))
        let run1 = try ledger.startRun(mode: "run", inputs: ["a.jsonl", "b.jsonl"])
        let contract = Fixtures.contract(job: "24-1017")
        #expect(try ledger.record(export(contract, project: "5001"), runId: run1) == 1)
        var counts = RunCounts()
        counts.inputs = 2
        counts.documentsIn = 1
        counts.exported = 1
        try ledger.finishRun(run1, counts: counts, status: .ok)

        let run2 = try ledger.startRun(mode: "watch", inputs: ["c.jsonl"])
        let changed = Fixtures.contract(job: "24-1017", amounts: ["1000.00", "2600.00"])
        #expect(try ledger.record(export(changed, project: "5001", changes: ["original_amount: 3500.00 -> 3600.00"]), runId: run2) == 2)

        let entry = try #require(try ledger.entry(originId: contract.originId, target: .procore))
        #expect(entry.version == 2)
        #expect(entry.runId == run2)
        #expect(entry.contentHash == ContentHash.of(changed))
        #expect(entry.projectId == "5001")
        #expect(entry.contract == ContractKey(company: "1", job: "24-1017", customer: "OWN100"))
        #expect(entry.fileName == "spectrum_1_24-1017_OWN100.json")
        #expect(try JSONParser.parse(entry.document) == ContentHash.comparable(changed))
        #expect(try ledger.entry(originId: contract.originId, target: .spectrum) == nil)

        let history = try ledger.history(originId: contract.originId, target: .procore)
        #expect(history.map(\.version) == [1, 2])
        #expect(history.map(\.action) == ["new", "update"])
        #expect(history[1].changes == ["original_amount: 3500.00 -> 3600.00"])

        let runs = try ledger.runs()
        #expect(runs.map(\.id) == [run1, run2])
        #expect(runs[0].inputs == ["a.jsonl", "b.jsonl"])
        #expect(runs[0].counts == counts)
        #expect(runs[0].exitStatus == 0)
        #expect(runs[0].endedAt != nil)
        #expect(runs[1].mode == "watch")
        #expect(runs[1].endedAt == nil)
    }

    @Test func answersTheValidatorsQuestions() throws {
        let folder = TemporaryFolder()
        let ledger = try Ledger(path: folder.file("l.sqlite"))
        let run = try ledger.startRun(mode: "run", inputs: [])
        try ledger.record(export(Fixtures.contract(job: "24-1017", amounts: ["1.00", "2.00", "3.00"]), project: "5001"), runId: run)
        try ledger.record(export(Fixtures.contract(job: "24-2000"), project: nil), runId: run)
        try ledger.record(export(Fixtures.changeOrder(job: "24-1017")), runId: run)

        let key = ContractKey(company: "1", job: "24-1017", customer: "OWN100")
        #expect(try ledger.exportedContract(forProject: "5001") == "spectrum:1:24-1017:OWN100")
        #expect(try ledger.exportedContract(forProject: "9999") == nil)
        #expect(try ledger.billingItems(of: key) == ["0100", "0200", "0300"])
        #expect(try ledger.billingItems(of: ContractKey(company: "1", job: "24-2000", customer: "OWN100")) == ["0100", "0200"])
        #expect(try ledger.billingItems(of: ContractKey(company: "1", job: "24-1017", customer: "OTHER")) == nil)

        // An update replaces the billing items.
        try ledger.record(export(Fixtures.contract(job: "24-1017", amounts: ["6.00"]), project: "5001"), runId: run)
        let history = try ledger.exportHistory()
        #expect(history.billingItems(of: key) == ["0100"])
        #expect(history.exportedContract(forProject: "5001") == "spectrum:1:24-1017:OWN100")
        #expect(history.contractsByProject.count == 1)
    }

    @Test func refusesASecondPrimeContractForOneProject() throws {
        let folder = TemporaryFolder()
        let ledger = try Ledger(path: folder.file("l.sqlite"))
        let run = try ledger.startRun(mode: "run", inputs: [])
        try ledger.record(export(Fixtures.contract(job: "24-1017"), project: "5001"), runId: run)
        #expect(try ledger.conflictingContract(projectId: "5001", target: .procore, originId: "spectrum:1:24-1018:OWN100") == "spectrum:1:24-1017:OWN100")
        #expect(try ledger.conflictingContract(projectId: "5001", target: .procore, originId: "spectrum:1:24-1017:OWN100") == nil)
        #expect(throws: LedgerError.self) { try ledger.record(export(Fixtures.contract(job: "24-1018"), project: "5001"), runId: run) }
        // The failed write left nothing behind.
        #expect(try ledger.entries().map(\.originId) == ["spectrum:1:24-1017:OWN100"])
    }

    @Test func rollsBackATransactionThatThrows() throws {
        struct Stop: Error {}
        let folder = TemporaryFolder()
        let ledger = try Ledger(path: folder.file("l.sqlite"))
        let run = try ledger.startRun(mode: "run", inputs: [])
        #expect(throws: Stop.self) {
            try ledger.transaction {
                try ledger.record(export(Fixtures.contract(job: "24-1017")), runId: run)
                throw Stop()
            }
        }
        #expect(try ledger.entries().isEmpty)
    }

    @Test func reopensReadOnlyAndRefusesANewerSchema() throws {
        let folder = TemporaryFolder()
        let path = folder.file("l.sqlite")
        try ledgerWithOneContract(at: path)
        let reader = try Ledger(path: path, readOnly: true)
        #expect(try reader.entries().count == 1)
        #expect(throws: LedgerError.self) { try reader.startRun(mode: "run", inputs: []) }

        try SQLiteConnection(path: path, readOnly: false, busyTimeoutMilliseconds: 1000).execute("PRAGMA user_version = 7")
        do {
            _ = try Ledger(path: path)
            Issue.record("a newer ledger schema must be refused")
        } catch let error as LedgerError {
            #expect(error.message.contains("newer SOVBridge"))
        }
    }

    /// A dry run writes nothing, and a read-only ledger is how it reads: SQLite would create
    /// `-wal` and `-shm` beside a WAL database even for a read-only connection.
    @Test func aReaderCreatesOrChangesNoFile() throws {
        let folder = TemporaryFolder()
        let path = folder.file("l.sqlite")
        try ledgerWithOneContract(at: path)
        let closed = try FolderSnapshot(folder.path)
        #expect(closed.names == ["l.sqlite"])
        do {
            let reader = try Ledger(path: path, readOnly: true)
            #expect(try reader.entries().count == 1)
            #expect(try reader.exportHistory().billingItems(of: ContractKey(company: "1", job: "24-1017", customer: "OWN100")) == ["0100", "0200"])
        }
        #expect(try FolderSnapshot(folder.path) == closed)

        // What a writer killed mid-run leaves: a commit only in the WAL, and the -shm beside it.
        let writer = try Ledger(path: path)
        try writer.record(export(Fixtures.contract(job: "24-2000")), runId: try writer.startRun(mode: "run", inputs: []))
        let left = TemporaryFolder()
        for suffix in ["", "-wal", "-shm"] {
            try FileManager.default.copyItem(atPath: path + suffix, toPath: left.file("l.sqlite" + suffix))
        }
        let leftBehind = try FolderSnapshot(left.path)
        do {
            let reader = try Ledger(path: left.file("l.sqlite"), readOnly: true)
            #expect(try reader.entries().map(\.originId).sorted() == ["spectrum:1:24-1017:OWN100", "spectrum:1:24-2000:OWN100"])
        }
        #expect(try FolderSnapshot(left.path) == leftBehind)
        withExtendedLifetime(writer) {}
    }

    /// The reader opens the ledger by URI: characters that mean something in a URI are escaped.
    @Test func aReaderOpensAnyPath() throws {
        #expect(SQLiteConnection.uri(for: "/srv/sov bridge/ledger.sqlite") == "file:///srv/sov bridge/ledger.sqlite")
        #expect(SQLiteConnection.uri(for: "state/l?x#1%.sqlite") == "file:state/l%3Fx%231%25.sqlite")
        let folder = TemporaryFolder()
        let path = folder.file("odd ?name#1%41.sqlite")
        try ledgerWithOneContract(at: path)
        #expect(try Ledger(path: path, readOnly: true).entries().count == 1)
        #expect(folder.names(".") == ["odd ?name#1%41.sqlite"])
        #expect(throws: LedgerError.self) { try Ledger(path: folder.file("missing.sqlite"), readOnly: true) }
        #expect(folder.names(".") == ["odd ?name#1%41.sqlite"])
    }

    @Test func failsClearlyWhenTheFileIsNotALedger() throws {
        let folder = TemporaryFolder()
        let path = folder.write("l.sqlite", "this is not a database, it is a text file that is long enough to have a header......")
        #expect(throws: LedgerError.self) { try Ledger(path: path) }
        #expect(throws: LedgerError.self) { try Ledger(path: folder.file("missing/folder/l.sqlite")) }
        do {
            _ = try Ledger(path: folder.file("missing/folder/l.sqlite"))
        } catch let error as LedgerError {
            #expect(error.status == .cannotCreate)
        }
    }

    /// Two runs that both find no ledger create it at the same moment: both open it.
    @Test func twoRunsCreatingTheLedgerAtOnceBothSucceed() async throws {
        let folder = TemporaryFolder()
        for attempt in 0..<20 {
            let path = folder.file("fresh-\(attempt).sqlite")
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        let ledger = try Ledger(path: path)
                        _ = try ledger.startRun(mode: "run", inputs: [])
                    }
                }
                try await group.waitForAll()
            }
            #expect(try Ledger(path: path).runs().count == 2)
        }
    }

    /// Two writers on one ledger at once (two connections, two threads): every write lands,
    /// none is lost or doubled, and the file stays sound.
    @Test func twoWritersAtOnceDoNotCorruptIt() async throws {
        let folder = TemporaryFolder()
        let path = folder.file("l.sqlite")
        _ = try Ledger(path: path)
        let perWriter = 150
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<2 {
                group.addTask {
                    let ledger = try Ledger(path: path)
                    let run = try ledger.startRun(mode: "run", inputs: ["writer \(writer)"])
                    for index in 0..<perWriter {
                        // Both writers also update one shared document, so they really contend.
                        try ledger.transaction {
                            let shared = Fixtures.contract(job: "SHARED", amounts: ["\(writer * 1000 + index).00"])
                            try ledger.record(self.export(shared), runId: run)
                            try ledger.record(self.export(Fixtures.contract(job: "W\(writer)-\(index)")), runId: run)
                        }
                    }
                    var counts = RunCounts()
                    counts.exported = perWriter
                    try ledger.finishRun(run, counts: counts, status: .ok)
                }
            }
            try await group.waitForAll()
        }
        let ledger = try Ledger(path: path)
        #expect(try ledger.integrityCheck() == "ok")
        #expect(try ledger.entries().count == 2 * perWriter + 1)
        let shared = try #require(try ledger.entry(originId: "spectrum:1:SHARED:OWN100", target: .procore))
        #expect(shared.version == 2 * perWriter)
        #expect(try ledger.history(originId: shared.originId, target: .procore).map(\.version) == Array(1...(2 * perWriter)))
        #expect(try ledger.runs().allSatisfy { $0.exitStatus == 0 && $0.counts.exported == perWriter })
    }
}
