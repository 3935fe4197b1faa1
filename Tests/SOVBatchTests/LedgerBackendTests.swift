import Foundation
import SOVTestSupport
@testable import SOVBatch
import SOVCore
import Testing

/// The ledger's one interface, run against each backend: SQLite always, PostgreSQL when
/// `SOV_TEST_POSTGRES_URL` names a server to test against (`make test-postgres` starts a
/// throwaway one; CI always does). Each PostgreSQL test gets a schema of its own, dropped after.
enum LedgerBackend: String, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgresql

    static let postgresURL: String? = ProcessInfo.processInfo.environment["SOV_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static let all: [LedgerBackend] = postgresURL == nil ? [.sqlite] : [.sqlite, .postgresql]

    var testDescription: String { rawValue }
}

/// A place for one ledger of one backend: a temporary folder, or a fresh PostgreSQL schema.
final class LedgerPlace {
    let backend: LedgerBackend
    let folder = TemporaryFolder()
    private(set) var location: String
    private var schema: String?

    init(_ backend: LedgerBackend) throws {
        self.backend = backend
        switch backend {
        case .sqlite:
            location = folder.file("ledger.sqlite")
        case .postgresql:
            let base = try #require(LedgerBackend.postgresURL)
            let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            try LedgerPlace.admin().execute("CREATE SCHEMA \(name)")
            schema = name
            location = base + (base.contains("?") ? "&" : "?") + "options=-csearch_path%3D\(name)"
        }
    }

    /// A plain connection to the test server, outside any test's schema.
    static func admin() throws -> PostgresConnection {
        try PostgresConnection(url: PostgresURL(try #require(LedgerBackend.postgresURL)), readOnly: false, lockTimeoutMilliseconds: 5000)
    }

    /// A raw connection to this place's database, for what the interface does not offer.
    func raw() throws -> any LedgerConnection {
        switch backend {
        case .sqlite: try SQLiteConnection(path: location, readOnly: false, busyTimeoutMilliseconds: 1000)
        case .postgresql: try PostgresConnection(url: PostgresURL(location), readOnly: false, lockTimeoutMilliseconds: 5000)
        }
    }

    func ledger(readOnly: Bool = false, busyTimeoutMilliseconds: Int32 = 60_000) throws -> Ledger {
        try Ledger(path: location, readOnly: readOnly, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
    }

    deinit {
        if let schema { try? LedgerPlace.admin().execute("DROP SCHEMA \(schema) CASCADE") }
    }
}

@Suite(.serialized) struct LedgerBackendTests {
    func export(_ document: CanonicalDocument, project: String? = nil, changes: [String] = []) -> LedgerExport {
        var items: [String] = []
        if case .primeContract(let contract) = document { items = contract.lines.map(\.code) }
        return LedgerExport(
            originId: document.originId, target: ExportTarget(for: document), kind: document.kind, contentHash: ContentHash.of(document),
            fileName: ExportTarget(for: document).fileName(for: document), projectId: project,
            contract: document.origin.contractKey, billingItems: items, document: String(decoding: ContentHash.comparableText(document), as: UTF8.self), changes: changes)
    }

    func newUnit(_ origin: String, body: [UInt8] = Array("{}".utf8), contract: String? = nil, action: UnitAction = .create, baseSeq: Int64? = nil) -> NewUnit {
        NewUnit(originId: origin, target: .procore, kind: "prime_contract", action: action, version: 1, contentHash: "h-" + origin,
                baseSeq: baseSeq, contractOriginId: contract, document: "{\"origin\":\"\(origin)\"}", body: body, meta: "{\"n\":1}")
    }

    @Test("without SOV_TEST_POSTGRES_URL the PostgreSQL ledger suite is skipped (make test-postgres runs it)",
          .enabled(if: LedgerBackend.postgresURL == nil))
    func postgresSuiteSkipped() {
        print("note: SOV_TEST_POSTGRES_URL is not set: the ledger suite ran against SQLite only; `make test-postgres` runs it against a throwaway PostgreSQL too")
    }

    @Test(arguments: LedgerBackend.all)
    func recordsExportsUpdatesRunsAndHistory(_ backend: LedgerBackend) throws {
        let place = try LedgerPlace(backend)
        let ledger = try place.ledger()
        #expect(try ledger.integrityCheck() == "ok")
        #expect(try ledger.userVersion() == Ledger.schemaVersion)
        let run1 = try ledger.startRun(mode: "run", inputs: ["a.jsonl", "b.jsonl"])
        let contract = Fixtures.contract(job: "24-1017")
        #expect(try ledger.record(export(contract, project: "5001"), runId: run1) == 1)
        var counts = RunCounts()
        counts.inputs = 2
        counts.exported = 1
        counts.held = 3
        try ledger.finishRun(run1, counts: counts, status: .ok)
        let run2 = try ledger.startRun(mode: "watch", inputs: [])
        #expect(run2 > run1)
        let changed = Fixtures.contract(job: "24-1017", amounts: ["1000.00", "2600.00"])
        #expect(try ledger.record(export(changed, project: "5001", changes: ["a: 1 -> 2", "b: 3 -> 4"]), runId: run2) == 2)
        try ledger.record(export(Fixtures.contract(job: "24-0999", amounts: ["7.00"])), runId: run2)

        let entry = try #require(try ledger.entry(originId: contract.originId, target: .procore))
        #expect(entry.version == 2)
        #expect(entry.runId == run2)
        #expect(entry.contract == ContractKey(company: "1", job: "24-1017", customer: "OWN100"))
        #expect(try ledger.entries().map(\.originId) == ["spectrum:1:24-0999:OWN100", "spectrum:1:24-1017:OWN100"])
        let history = try ledger.history(originId: contract.originId, target: .procore)
        #expect(history.map(\.action) == ["new", "update"])
        #expect(history[1].changes == ["a: 1 -> 2", "b: 3 -> 4"])
        let runs = try ledger.runs()
        #expect(runs.map(\.id) == [run1, run2])
        #expect(runs[0].counts == counts)
        #expect(runs[0].inputs == ["a.jsonl", "b.jsonl"])
        #expect(runs[1].inputs == [])
        #expect(runs[1].endedAt == nil)
        #expect(try ledger.billingItems(of: ContractKey(company: "1", job: "24-1017", customer: "OWN100")) == ["0100", "0200"])
        #expect(try ledger.exportHistory().exportedContract(forProject: "5001") == contract.originId)
    }

    /// PC001 holds in the database itself, not only in code: a second prime contract for one
    /// project is refused by the unique index even when written with plain SQL.
    @Test(arguments: LedgerBackend.all)
    func theDatabaseRefusesASecondPrimeContractPerProject(_ backend: LedgerBackend) throws {
        let place = try LedgerPlace(backend)
        let ledger = try place.ledger()
        let run = try ledger.startRun(mode: "run", inputs: [])
        try ledger.record(export(Fixtures.contract(job: "24-1017"), project: "5001"), runId: run)
        #expect(try ledger.conflictingContract(projectId: "5001", target: .procore, originId: "x") == "spectrum:1:24-1017:OWN100")
        #expect(throws: LedgerError.self) { try ledger.record(export(Fixtures.contract(job: "24-1018"), project: "5001"), runId: run) }
        #expect(try ledger.entries().count == 1)
        let raw = try place.raw()
        #expect(throws: LedgerError.self) {
            try raw.query(
                "INSERT INTO exports (origin_id, target, kind, content_hash, version, run_id, exported_at, file_name, project_id, document) VALUES ('o2', 'procore', 'prime_contract', 'h', 1, ?, 't', 'f', '5001', '{}')",
                [.integer(run)])
        }
    }

    @Test(arguments: LedgerBackend.all)
    func rollsBackATransactionThatThrows(_ backend: LedgerBackend) throws {
        struct Stop: Error {}
        let place = try LedgerPlace(backend)
        let ledger = try place.ledger()
        let run = try ledger.startRun(mode: "run", inputs: [])
        #expect(throws: Stop.self) {
            try ledger.transaction {
                try ledger.record(export(Fixtures.contract(job: "24-1017")), runId: run)
                _ = try ledger.addUnit(newUnit("o1"), runId: run, name: { "\($0).json" })
                throw Stop()
            }
        }
        #expect(try ledger.entries().isEmpty)
        #expect(try ledger.units().isEmpty)
        // The connection is usable after the rollback.
        _ = try ledger.addUnit(newUnit("o1"), runId: run, name: { "\($0).json" })
        #expect(try ledger.units().count == 1)
    }

    /// A unit is recorded with its name made from its sequence; the sequences are the ones the
    /// database gives (SQLite's AUTOINCREMENT: never one it gave before, though its unit was
    /// forgotten; one rolled back is given again), and names are never placeholders.
    @Test(arguments: LedgerBackend.all)
    func unitSequencesAndNamesAreTheDatabases(_ backend: LedgerBackend) throws {
        struct Stop: Error {}
        let place = try LedgerPlace(backend)
        let ledger = try place.ledger()
        let run = try ledger.startRun(mode: "run", inputs: [])
        func add(_ origin: String) throws -> OutboxUnit {
            try ledger.addUnit(newUnit(origin), runId: run, name: { String(format: "%08d-", $0) + origin + ".json" })
        }
        let first = try add("a")
        let second = try add("b")
        let third = try add("c")
        #expect([second.seq, third.seq] == [first.seq + 1, first.seq + 2])
        try ledger.forget(originId: "c")
        let fourth = try add("d")
        #expect(fourth.seq == third.seq + 1, "a sequence is not given twice, though its unit is gone")
        #expect(throws: Stop.self) {
            try ledger.transaction {
                _ = try add("e")
                throw Stop()
            }
        }
        // As a batch undoes an input that fails: back to its savepoint, in the batch's transaction.
        let fifth = try ledger.transaction {
            let point = try ledger.savepoint()
            _ = try add("f")
            try ledger.rollback(to: point)
            return try add("g")
        }
        if backend == .sqlite { #expect(fifth.seq == fourth.seq + 1, "what was rolled back is given again") }
        let units = try ledger.units()
        #expect(units.map(\.originId) == ["a", "b", "d", "g"])
        #expect(units.map(\.fileName) == units.map { String(format: "%08d-", $0.seq) + $0.originId + ".json" })
        #expect(units.map(\.seq) == [first.seq, second.seq, fourth.seq, fifth.seq])
        for unit in units { #expect(try ledger.unit(fileName: unit.fileName)?.seq == unit.seq) }
        #expect(try ledger.integrityCheck() == "ok")
    }

    @Test(arguments: LedgerBackend.all)
    func keepsTheOutbox(_ backend: LedgerBackend) throws {
        let place = try LedgerPlace(backend)
        let ledger = try place.ledger()
        let run = try ledger.startRun(mode: "run", inputs: [])
        let everyByte = (0...255).map { UInt8($0) } + [0, 0]
        let first = try ledger.addUnit(newUnit("spectrum:1:A:X", body: everyByte), runId: run, name: { String(format: "%08d-a.json", $0) })
        let second = try ledger.addUnit(newUnit("spectrum:1:B:X", contract: "spectrum:1:A:X"), runId: run, name: { String(format: "%08d-b.json", $0) })
        let third = try ledger.addUnit(newUnit("spectrum:1:A:X", action: .update, baseSeq: first.seq), runId: run, name: { String(format: "%08d-a2.json", $0) })
        #expect(first.seq < second.seq && second.seq < third.seq)
        #expect(try ledger.unitBody(seq: first.seq) == everyByte)
        #expect(try ledger.unitBody(seq: second.seq) == Array("{}".utf8))
        #expect(try ledger.unitMeta(seq: first.seq) == .object([JSONMember("n", .int(1))]))
        #expect(try ledger.unitDocument(seq: first.seq) == "{\"origin\":\"spectrum:1:A:X\"}")
        #expect(try ledger.unit(fileName: second.fileName)?.seq == second.seq)
        #expect(try ledger.latestUnit(originId: "spectrum:1:A:X", target: .procore)?.seq == third.seq)
        #expect(try ledger.units(state: .pending).map(\.seq) == [first.seq, second.seq, third.seq])

        try ledger.setState(first.seq, .failed, message: "timeout", countAttempt: true)
        try ledger.setState(second.seq, .refused, message: "no", countAttempt: true)
        try ledger.setState(third.seq, .superseded, supersededBy: 99)
        #expect(try ledger.unit(seq: first.seq)?.attempts == 1)
        #expect(try ledger.unit(seq: first.seq)?.message == "timeout")
        #expect(try ledger.unit(seq: third.seq)?.supersededBy == 99)
        #expect(try ledger.retry() == 1)
        #expect(try ledger.retry(includingRefused: true) == 1)
        #expect(try ledger.units(state: .pending).map(\.seq) == [first.seq, second.seq])

        try ledger.setRemoteId("31504417", for: "spectrum:1:A:X", target: .procore, unit: first.seq)
        try ledger.setRemoteId("7", for: "spectrum:1:A:X:01-000", target: .procore, unit: first.seq)
        try ledger.setRemoteId("8", for: "spectrum:1:A:XY", target: .procore, unit: nil)
        try ledger.setRemoteId("31504418", for: "spectrum:1:A:X", target: .procore, unit: first.seq)
        #expect(try ledger.remoteId(for: "spectrum:1:A:X", target: .procore) == "31504418")
        #expect(try ledger.remoteIds(under: "spectrum:1:A:X", target: .procore).map(\.id) == ["31504418", "7"])

        let key = ContractKey(company: "1", job: "C", customer: "X")
        try ledger.hold(HeldDocument(originId: "spectrum:1:C:X:co:001", target: .procore, kind: "change_order", reason: "DEP001", document: "{}", contract: key, runId: run, heldAt: "2025-01-01T00:00:00Z"))
        #expect(try ledger.heldDocuments().map(\.contract) == [key])
        try ledger.release(originId: "spectrum:1:C:X:co:001", target: .procore)
        #expect(try ledger.heldDocuments().isEmpty)

        #expect(try ledger.forget(originId: "spectrum:1:A:X"))
        #expect(try ledger.units().map(\.seq) == [second.seq])
        #expect(try ledger.remoteIds(under: "spectrum:1:A:X", target: .procore).isEmpty)
        #expect(try ledger.remoteId(for: "spectrum:1:A:XY", target: .procore) == "8")
        #expect(try !ledger.forget(originId: "spectrum:1:A:X"))
        // The sequence never goes back, even after a forget.
        let fourth = try ledger.addUnit(newUnit("spectrum:1:D:X"), runId: run, name: { "\($0)-d.json" })
        #expect(fourth.seq > third.seq)
    }

    /// Two workers on one ledger: a unit claimed by one is not claimable by the other until it
    /// is released or its holder goes away (as a worker killed with -9 does).
    @Test(arguments: LedgerBackend.all)
    func aClaimedUnitIsHeldByOneWorkerOnly(_ backend: LedgerBackend) throws {
        let place = try LedgerPlace(backend)
        var worker1: Ledger? = try place.ledger()
        let worker2 = try place.ledger()
        #expect(try worker1!.claim(5))
        #expect(try !worker2.claim(5))
        #expect(try worker2.claim(6))
        #expect(try !worker1!.claim(6))
        try worker1!.releaseClaim(5)
        #expect(try worker2.claim(5))
        try worker2.releaseClaim(5)
        #expect(try worker1!.claim(5))
        worker1 = nil
        #expect(try worker2.claim(5))
    }

    /// Writers serialize: while one holds the write transaction, another waits, and past its
    /// timeout fails with 74 instead of writing beside it.
    @Test(arguments: LedgerBackend.all)
    func writersSerialize(_ backend: LedgerBackend) throws {
        let place = try LedgerPlace(backend)
        let first = try place.ledger()
        let second = try place.ledger(busyTimeoutMilliseconds: 200)
        try first.transaction {
            _ = try first.startRun(mode: "run", inputs: [])
            do {
                _ = try second.startRun(mode: "run", inputs: [])
                Issue.record("a second writer must wait for the first")
            } catch let error as LedgerError {
                #expect(error.status == .ioError)
            }
        }
        _ = try second.startRun(mode: "run", inputs: [])
        #expect(try first.runs().count == 2)
    }

    @Test(arguments: LedgerBackend.all)
    func readOnlyRefusesWritesAndNewerSchemasAreRefused(_ backend: LedgerBackend) throws {
        let place = try LedgerPlace(backend)
        let ledger = try place.ledger()
        try ledger.record(export(Fixtures.contract(job: "24-1017")), runId: try ledger.startRun(mode: "run", inputs: []))
        let reader = try place.ledger(readOnly: true)
        #expect(try reader.entries().count == 1)
        #expect(throws: LedgerError.self) { try reader.startRun(mode: "run", inputs: []) }
        try place.raw().setSchemaVersion(7)
        do {
            _ = try place.ledger()
            Issue.record("a newer ledger schema must be refused")
        } catch let error as LedgerError {
            #expect(error.message.contains("newer SOVBridge"))
        }
    }

    // MARK: PostgreSQL only

    @Test func ledgerURLsAreParsedAndPasswordsRefused() throws {
        #expect(Ledger.isServer("postgresql://sov@127.0.0.1:5432/sov"))
        #expect(Ledger.isServer("postgres://sov@db/sov"))
        #expect(!Ledger.isServer("postgresql:/sov"))
        #expect(!Ledger.isServer("/var/lib/sovbridge/ledger.sqlite"))
        let url = try PostgresURL("postgresql://sov@db:5432/sov?sslmode=verify-full&password_file=/run/secrets/pg")
        #expect(url.connectionURI == "postgresql://sov@db:5432/sov?sslmode=verify-full")
        #expect(url.passwordFile == "/run/secrets/pg")
        #expect(url.display == "postgresql://sov@db:5432/sov?sslmode=verify-full&password_file=/run/secrets/pg")
        for secret in ["postgresql://sov:hunter2@db/sov", "postgresql://sov@db/sov?password=hunter2"] {
            do {
                _ = try Ledger(path: secret)
                Issue.record("a password in the URL must be refused")
            } catch let error as LedgerError {
                #expect(error.status == .usage)
                #expect(!error.description.contains("hunter2"))
            }
        }
        #expect(PostgresConnection.numberedPlaceholders("SELECT '?', \"a?\" FROM t WHERE a = ? AND b = ?") == "SELECT '?', \"a?\" FROM t WHERE a = $1 AND b = $2")
        #expect(PostgresConnection.bytea("\\x00ff10Ab") == [0, 255, 16, 171])
    }

    @Test func aPasswordFileOthersCanReadIsRefused() throws {
        let folder = TemporaryFolder()
        let file = folder.write("pg-password", "secret\n")
        chmod(file, 0o644)
        do {
            _ = try Ledger(path: "postgresql://sov@127.0.0.1:1/sov?password_file=\(file)")
            Issue.record("a password file readable by others must be refused")
        } catch let error as LedgerError {
            #expect(error.status == .usage)
            #expect(error.message.contains("chmod 600"))
            #expect(!error.description.contains("secret"))
        }
    }

    /// A server that is not there: 74, naming the server, not a SQLite file made on the side.
    @Test func anUnreachableServerIs74NamingIt() throws {
        let folder = TemporaryFolder()
        let previous = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(folder.path)
        defer { FileManager.default.changeCurrentDirectoryPath(previous) }
        do {
            _ = try Ledger(path: "postgresql://sov@127.0.0.1:1/sov?connect_timeout=2")
            Issue.record("no server listens on port 1")
        } catch let error as LedgerError {
            #expect(error.status == .ioError)
            #expect(error.description.hasPrefix("postgresql://sov@127.0.0.1:1/sov?connect_timeout=2: ledger: cannot connect to the server"))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }

    /// The server goes away mid-transaction: the write fails with 74 naming the server, nothing
    /// of the transaction is recorded, and a new connection carries on.
    @Test(.enabled(if: LedgerBackend.postgresURL != nil))
    func aLostConnectionIs74AndRecordsNothing() throws {
        let place = try LedgerPlace(.postgresql)
        let ledger = try place.ledger()
        let run = try ledger.startRun(mode: "run", inputs: [])
        let pid = try #require(try ledger.connection.query("SELECT pg_backend_pid()").first?.first?.integer)
        do {
            try ledger.transaction {
                _ = try ledger.addUnit(newUnit("o1"), runId: run, name: { "\($0).json" })
                try LedgerPlace.admin().query("SELECT pg_terminate_backend(?)", [.integer(pid)])
                _ = try ledger.addUnit(newUnit("o2"), runId: run, name: { "\($0).json" })
            }
            Issue.record("the transaction must fail once the connection is gone")
        } catch let error as LedgerError {
            #expect(error.status == .ioError)
            #expect(error.description.hasPrefix(place.location + ": ledger:"))
            #expect(error.message.contains("lost the connection"))
        }
        let next = try place.ledger()
        #expect(try next.units().isEmpty)
        _ = try next.addUnit(newUnit("o1"), runId: run, name: { "\($0).json" })
        #expect(try next.units().count == 1)
    }
}
