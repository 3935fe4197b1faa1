
#if canImport(Glibc)
import CSQLite
import Glibc
import SOVCore
import SOVFrontEnd
#endif

/// What the ledger knows of one exported document: its latest export.
public struct LedgerEntry: Sendable, Hashable {
    public var originId: String
    public var target: ExportTarget
    public var kind: String
    public var contentHash: String
    /// 1 for the first export, +1 per update.
    public var version: Int
    public var runId: Int64
    public var exportedAt: String
    public var fileName: String
    public var projectId: String?
    public var contract: ContractKey?
    /// The comparable canonical JSON exported (ContentHash.comparable), to say what changed.
    public var document: String
}

/// One export to record.
public struct LedgerExport: Sendable {
    public var originId: String
    public var target: ExportTarget
    public var kind: String
    public var contentHash: String
    public var fileName: String
    public var projectId: String?
    public var contract: ContractKey?
    /// Billing item codes, for a prime contract (CO004 against contracts of earlier runs).
    public var billingItems: [String]
    public var document: String
    /// For an update: what changed, one entry per change.
    public var changes: [String]
    /// The unit (recorded in the same transaction) that carries `document` too: the export row
    /// then stores no copy of its own and reads the unit's (found by the unit's file name, which
    /// the export records), so a batch writes each canonical document to the ledger once.
    public var documentOfUnit: Int64?

    public init(originId: String, target: ExportTarget, kind: String, contentHash: String, fileName: String, projectId: String? = nil, contract: ContractKey? = nil, billingItems: [String] = [], document: String, changes: [String] = [], documentOfUnit: Int64? = nil) {
        self.documentOfUnit = documentOfUnit
        self.originId = originId
        self.target = target
        self.kind = kind
        self.contentHash = contentHash
        self.fileName = fileName
        self.projectId = projectId
        self.contract = contract
        self.billingItems = billingItems
        self.document = document
        self.changes = changes
    }
}

/// What a run did, as the ledger keeps it.
public struct RunCounts: Sendable, Hashable {
    public var inputs = 0
    public var failedInputs = 0
    public var documentsIn = 0
    public var exported = 0
    public var updated = 0
    public var unchanged = 0
    public var rejected = 0
    public var held = 0
    /// Pending units that a newer version replaced in this run.
    public var superseded = 0

    public init() {}
}

public struct RunRecord: Sendable, Hashable {
    public var id: Int64
    public var startedAt: String
    public var endedAt: String?
    public var mode: String
    public var inputs: [String]
    public var counts: RunCounts
    public var exitStatus: Int32?
}

/// The ledger (docs/ARCHITECTURE.md, "Ledger backends"): which documents were exported, with which content, by which run.
///
/// It is a SQLite database used through the system `libsqlite3` (the `CSQLite` module), not GRDB:
/// the ledger needs a dozen statements, and GRDB would add a large package to every CI build for
/// them. Safe for several runs at once: WAL journal (readers never block the writer), a busy
/// timeout (a second writer waits instead of failing), `BEGIN IMMEDIATE` for every write (the
/// write lock is taken before reading what to change, so two runs cannot both decide to export
/// the same document), and `synchronous = FULL` (a commit survives a power cut, since the ledger
/// is what stops a document being exported twice). The schema is versioned with `user_version`.
///
/// Or, given a `postgresql://` URL, the same tables on a PostgreSQL server through libpq (the
/// `CPostgres` module), shared by many workers on many hosts: the statements are the same, the
/// connection (`LedgerConnection`) rewrites placeholders and supplies the DDL, the write lock
/// (an advisory lock) and unit claims (docs/ARCHITECTURE.md, "Ledger backends").
public final class Ledger {
    public static let schemaVersion = 3
    public static let defaultPath = LedgerAddress.defaultPath

    /// The SQLite file's path, or the PostgreSQL server's URL (without any password): what
    /// messages and reports name.
    public let path: String
    public let readOnly: Bool
    public let location: LedgerLocation
    let connection: any LedgerConnection
    /// Packs unit bodies and documents on SQLite (schema 3) on its own thread; started at the
    /// first unit written. nil if no thread could be started: `packer` then packs in line.
    lazy var unitPacker: UnitPacker? = UnitPacker()
    lazy var packer = ZstdPacker()
    /// Units recorded in the open transaction whose packed copy is not written yet: their
    /// `document` is empty until `writePendingPacks`, which every commit, savepoint and read of
    /// a unit's stored copy calls first (docs/ARCHITECTURE.md, "Ledger backends").
    var unwrittenPacks: Set<Int64> = []
    /// Packs taken back from `unitPacker`, in order, not yet written.
    var packsToWrite: [UnitPacker.Packed] = []
    private var inTransaction = false
    /// The thread of `checkpointInBackground`, joined before the ledger closes.
    private var checkpointThread: pthread_t?
    /// Set once the schema is the current one: a ledger never goes back to an older schema, so
    /// the many `userVersion` checks need not ask the database each time.
    private var current = false
    private var savepointCount = 0

    /// Opens (and creates or migrates) the ledger at `path`: a file path (SQLite), or a
    /// `postgresql://USER@HOST:PORT/DB` URL (PostgreSQL; the password from PGPASSWORD,
    /// ~/.pgpass or `password_file=`). `busyTimeoutMilliseconds` bounds the wait for another
    /// writer on both.
    public init(path: String, readOnly: Bool = false, busyTimeoutMilliseconds: Int32 = 60_000) throws {
        location = try LedgerLocation(path)
        self.path = location.display
        self.readOnly = readOnly
        switch location {
        case .sqlite(let file):
            let sqlite = try SQLiteConnection(path: file, readOnly: readOnly, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
            connection = sqlite
            if !readOnly {
                // Only a new, empty file takes it (an existing ledger keeps its page size). With
                // packed units a batch of 2,000 contracts makes a 24 MB ledger in 4, 16 or 64 KB
                // pages alike; 64 KB pages take the fewest system calls for it (pwrite 22,700 ->
                // 1,500, pread 10,900 -> 730; docs/ARCHITECTURE.md, "Ledger backends").
                try sqlite.execute("PRAGMA page_size = 65536")
                let mode = try Ledger.switchToWAL(sqlite, waitingUpTo: busyTimeoutMilliseconds)
                if mode.lowercased() != "wal" {
                    throw LedgerError(path: path, message: "cannot switch to WAL journal mode (got '\(mode)'); is the ledger on a network file system?")
                }
                try sqlite.execute("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON")
            }
        case .postgresql(let url):
            connection = try PostgresConnection(url: url, readOnly: readOnly, lockTimeoutMilliseconds: busyTimeoutMilliseconds)
        }
        if readOnly {
            let version = try userVersion()
            if version > Ledger.schemaVersion { throw newerSchema(version) }
            current = version == Ledger.schemaVersion
            return
        }
        try migrate()
        current = try userVersion() == Ledger.schemaVersion
    }

    deinit {
        joinCheckpoint()
    }

    /// SQLite: starts copying what the write-ahead log holds into the database file, on a thread
    /// and a connection of their own: what closing the ledger does last, done while the caller
    /// goes on (a batch renames its units into the outbox meanwhile). A passive checkpoint: it
    /// never blocks a writer, and one that finds the log busy copies less; whatever is left,
    /// closing the ledger copies as before. Nothing durable depends on it: a commit is durable
    /// in the log. Joined when the ledger goes; a failure is left to that close.
    public func checkpointInBackground() {
        guard case .sqlite(let file) = location, !readOnly, !inTransaction else { return }
        joinCheckpoint()
        checkpointThread = BackgroundThread.start {
            guard let other = try? SQLiteConnection(path: file, readOnly: false, busyTimeoutMilliseconds: 0) else { return }
            _ = try? other.query("PRAGMA wal_checkpoint(PASSIVE)")
        }
    }

    private func joinCheckpoint() {
        guard let thread = checkpointThread else { return }
        pthread_join(thread, nil)
        checkpointThread = nil
    }

    /// Whether a ledger is there to open: a file that exists, or any server URL (the server
    /// says at connection time; an empty database is an empty ledger).
    public static func exists(_ path: String) -> Bool {
        PostgresURL.isURL(path) || FileSystem.exists(path)
    }

    /// Whether `path` names a PostgreSQL server rather than a file (no folder to create for it).
    public static func isServer(_ path: String) -> Bool { LedgerAddress.isServer(path) }

    /// Switching a new file to WAL needs a lock that SQLite does not wait for: when two runs
    /// create the ledger at the same moment, the second retries within the busy timeout.
    private static func switchToWAL(_ connection: SQLiteConnection, waitingUpTo milliseconds: Int32) throws(LedgerError) -> String {
        var waited: Int32 = 0
        while true {
            do {
                return try connection.query("PRAGMA journal_mode = WAL").first?.first?.text ?? ""
            } catch {
                let primary = error.code & 0xFF
                guard primary == SQLITE_BUSY || primary == SQLITE_LOCKED, waited < milliseconds else { throw error }
                usleep(10_000)
                waited += 10
            }
        }
    }

    func userVersion() throws -> Int {
        if current { return Ledger.schemaVersion }
        return try connection.schemaVersion()
    }

    private func newerSchema(_ version: Int) -> LedgerError {
        LedgerError(path: path, message: "written by a newer SOVBridge (ledger schema \(version); this one knows \(Ledger.schemaVersion))")
    }

    /// Creates or brings the schema up to date, in one write transaction (two workers starting
    /// on an empty database serialize on it: the second finds the schema made).
    private func migrate() throws {
        try transaction {
            let version = try userVersion()
            if version > Ledger.schemaVersion { throw newerSchema(version) }
            if connection.dialect == .postgresql {
                if version < 2 { try createPostgresSchema() } else if version < 3 { try addCompactStorage() }
                return
            }
            if version < 1 {
                try connection.execute(
                    """
                    CREATE TABLE runs (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        started_at TEXT NOT NULL,
                        ended_at TEXT,
                        mode TEXT NOT NULL,
                        inputs TEXT NOT NULL,
                        inputs_count INTEGER NOT NULL DEFAULT 0,
                        failed_inputs INTEGER NOT NULL DEFAULT 0,
                        documents_in INTEGER NOT NULL DEFAULT 0,
                        exported INTEGER NOT NULL DEFAULT 0,
                        updated INTEGER NOT NULL DEFAULT 0,
                        unchanged INTEGER NOT NULL DEFAULT 0,
                        rejected INTEGER NOT NULL DEFAULT 0,
                        exit_status INTEGER
                    );
                    CREATE TABLE exports (
                        origin_id TEXT NOT NULL,
                        target TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        content_hash TEXT NOT NULL,
                        version INTEGER NOT NULL,
                        run_id INTEGER NOT NULL REFERENCES runs(id),
                        exported_at TEXT NOT NULL,
                        file_name TEXT NOT NULL,
                        project_id TEXT,
                        company TEXT,
                        job TEXT,
                        customer TEXT,
                        document TEXT NOT NULL,
                        PRIMARY KEY (origin_id, target)
                    ) WITHOUT ROWID;
                    CREATE UNIQUE INDEX one_prime_contract_per_project
                        ON exports(target, project_id) WHERE kind = 'prime_contract' AND project_id IS NOT NULL;
                    CREATE TABLE export_history (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        origin_id TEXT NOT NULL,
                        target TEXT NOT NULL,
                        version INTEGER NOT NULL,
                        content_hash TEXT NOT NULL,
                        run_id INTEGER NOT NULL REFERENCES runs(id),
                        exported_at TEXT NOT NULL,
                        action TEXT NOT NULL CHECK (action IN ('new', 'update')),
                        changes TEXT NOT NULL DEFAULT ''
                    );
                    CREATE TABLE contract_items (
                        origin_id TEXT NOT NULL,
                        target TEXT NOT NULL,
                        code TEXT NOT NULL,
                        PRIMARY KEY (origin_id, target, code),
                        FOREIGN KEY (origin_id, target) REFERENCES exports(origin_id, target) ON DELETE CASCADE
                    ) WITHOUT ROWID;
                    PRAGMA user_version = 1;
                    """)
            }
            if version < 2 { try migrateToOutbox() }
            if version < 3 { try addCompactStorage() }
        }
    }

    /// Runs `body` in a write transaction: committed if it returns, rolled back if it throws.
    /// Nested calls join the outer transaction. SQLite: `BEGIN IMMEDIATE`; PostgreSQL: a
    /// transaction that first takes a transaction-scoped advisory lock on one constant, so that
    /// writers serialize there as they do on SQLite (and units get their sequence numbers in
    /// commit order).
    @discardableResult
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        if inTransaction { return try body() }
        try connection.begin()
        inTransaction = true
        defer { inTransaction = false }
        do {
            let result = try body()
            try writePendingPacks()
            try connection.commit()
            return result
        } catch {
            dropPendingPacks()
            connection.rollback()
            throw error
        }
    }

    /// Writes the packs of the units waiting for them (`unwrittenPacks`), waiting for the
    /// packing thread to finish the last. A unit leaves `unwrittenPacks` only once its pack is
    /// written, so a failed write leaves the rest to the next call, and the commit refuses.
    func writePendingPacks() throws {
        if unwrittenPacks.isEmpty { return }
        if let unitPacker { packsToWrite += unitPacker.all() }
        try writeTakenPacks()
        if !unwrittenPacks.isEmpty {
            throw LedgerError(path: path, message: "\(unwrittenPacks.count) units were recorded without their packed copy")
        }
    }

    /// Writes the packs already taken back from the packing thread.
    func writeTakenPacks() throws {
        var written = 0
        defer { packsToWrite.removeFirst(written) }
        for pack in packsToWrite {
            try connection.query("UPDATE units SET document = ? WHERE seq = ?", [.blob(pack.bytes), .integer(pack.seq)])
            unwrittenPacks.remove(pack.seq)
            written += 1
        }
    }

    /// The transaction is rolled back: the units are gone, and so is any use for their packs.
    private func dropPendingPacks() {
        if !unwrittenPacks.isEmpty, let unitPacker { _ = unitPacker.all() }
        unwrittenPacks.removeAll()
        packsToWrite.removeAll()
    }

    /// A point inside the current write transaction that the work after it can be undone to
    /// (an input of the batch found unusable after some of its documents were recorded).
    public struct Savepoint {
        let name: String
    }

    /// Marks a savepoint in the current transaction (SQLite and PostgreSQL both have them).
    /// Every savepoint operation writes the pending packs first: a rollback to a savepoint then
    /// never meets a unit recorded before it whose pack is still to be written (a pack written
    /// after the savepoint would be undone with what followed), and a unit rolled back, whose
    /// sequence the next unit may take again, has no pack left to come.
    public func savepoint() throws -> Savepoint {
        try writePendingPacks()
        let point = Savepoint(name: "input_\(savepointCount)")
        savepointCount += 1
        try connection.execute("SAVEPOINT \(point.name)")
        return point
    }

    /// Keeps what was done since `point`.
    public func release(_ point: Savepoint) throws {
        try writePendingPacks()
        try connection.execute("RELEASE SAVEPOINT \(point.name)")
    }

    /// Undoes what was done since `point`; the transaction goes on.
    public func rollback(to point: Savepoint) throws {
        try writePendingPacks()
        try connection.execute("ROLLBACK TO SAVEPOINT \(point.name)")
        try connection.execute("RELEASE SAVEPOINT \(point.name)")
    }

    // MARK: Runs

    public func startRun(mode: String, inputs: [String], at time: String = Timestamp.now()) throws -> Int64 {
        try transaction {
            try connection.insert(
                "INSERT INTO runs (started_at, mode, inputs, inputs_count) VALUES (?, ?, ?, ?)",
                [.text(time), .text(mode), .text(inputs.joined(separator: "\n")), .integer(Int64(inputs.count))], returning: "id")
        }
    }

    public func finishRun(_ id: Int64, counts: RunCounts, status: ExitStatus, at time: String = Timestamp.now()) throws {
        try transaction {
            try connection.query(
                """
                UPDATE runs SET ended_at = ?, inputs_count = ?, failed_inputs = ?, documents_in = ?, exported = ?,
                    updated = ?, unchanged = ?, rejected = ?, exit_status = ?\(try userVersion() >= 2 ? ", held = \(counts.held), superseded = \(counts.superseded)" : "") WHERE id = ?
                """,
                [.text(time), .integer(Int64(counts.inputs)), .integer(Int64(counts.failedInputs)), .integer(Int64(counts.documentsIn)),
                 .integer(Int64(counts.exported)), .integer(Int64(counts.updated)), .integer(Int64(counts.unchanged)),
                 .integer(Int64(counts.rejected)), .integer(Int64(status.rawValue)), .integer(id)])
        }
    }

    public func runs() throws -> [RunRecord] {
        try connection.query(
            """
            SELECT id, started_at, ended_at, mode, inputs, inputs_count, failed_inputs, documents_in, exported, updated,
                unchanged, rejected, exit_status\(try userVersion() >= 2 ? ", held, superseded" : "") FROM runs ORDER BY id
            """
        ).map { row in
            var counts = RunCounts()
            counts.inputs = Int(row[5].integer ?? 0)
            counts.failedInputs = Int(row[6].integer ?? 0)
            counts.documentsIn = Int(row[7].integer ?? 0)
            counts.exported = Int(row[8].integer ?? 0)
            counts.updated = Int(row[9].integer ?? 0)
            counts.unchanged = Int(row[10].integer ?? 0)
            counts.rejected = Int(row[11].integer ?? 0)
            if row.count > 14 {
                counts.held = Int(row[13].integer ?? 0)
                counts.superseded = Int(row[14].integer ?? 0)
            }
            let inputs = row[4].text ?? ""
            return RunRecord(
                id: row[0].integer ?? 0, startedAt: row[1].text ?? "", endedAt: row[2].text, mode: row[3].text ?? "",
                inputs: inputs.isEmpty ? [] : inputs.split(separator: "\n", omittingEmptySubsequences: false).map(String.init),
                counts: counts, exitStatus: row[12].integer.map { Int32($0) })
        }
    }

    // MARK: Exports

    private static let entryColumns = "origin_id, target, kind, content_hash, version, run_id, exported_at, file_name, project_id, company, job, customer, document"
    /// What `entryColumns` reads: an export recorded with its unit keeps no copy of the
    /// document (an empty `document`) and reads the unit's; older rows have their own.
    private func selectedEntryColumns() throws -> String {
        guard try userVersion() >= 2 else { return Ledger.entryColumns }
        return "origin_id, target, kind, content_hash, version, run_id, exported_at, file_name, project_id, company, job, customer, \(Ledger.storedDocument), \(try storedDocumentForm())"
    }

    private static let storedDocument = "CASE WHEN exports.document <> '' THEN exports.document ELSE COALESCE((SELECT u.document FROM units u WHERE u.file_name = exports.file_name), '') END"

    /// How `storedDocument` is stored (`units.stored_as`), NULL for an export's own copy.
    private func storedDocumentForm() throws -> String {
        guard try userVersion() >= 3 else { return "NULL" }
        return "CASE WHEN exports.document <> '' THEN NULL ELSE (SELECT u.stored_as FROM units u WHERE u.file_name = exports.file_name) END"
    }

    private static let entryColumnsWithoutDocument = "origin_id, target, kind, content_hash, version, run_id, exported_at, file_name, project_id, company, job, customer, ''"

    private func entry(_ row: [SQLiteValue]) throws -> LedgerEntry {
        var contract: ContractKey?
        if let company = row[9].text, let job = row[10].text, let customer = row[11].text {
            contract = ContractKey(company: company, job: job, customer: customer)
        }
        return LedgerEntry(
            originId: row[0].text ?? "", target: ExportTarget(rawValue: row[1].text ?? "") ?? .procore, kind: row[2].text ?? "",
            contentHash: row[3].text ?? "", version: Int(row[4].integer ?? 0), runId: row[5].integer ?? 0,
            exportedAt: row[6].text ?? "", fileName: row[7].text ?? "", projectId: row[8].text, contract: contract,
            document: try storedText(row[12], storedAs: row.count > 13 ? row[13] : .null) ?? "")
    }

    /// - Parameter loadingDocument: false leaves `document` empty: an unchanged document is
    ///   known by its hash, and its stored copy (the largest column) is read only when it changed.
    public func entry(originId: String, target: ExportTarget, loadingDocument: Bool = true) throws -> LedgerEntry? {
        if try userVersion() == 0 { return nil }
        if loadingDocument { try writePendingPacks() }
        let sql = loadingDocument ? "SELECT \(try selectedEntryColumns()) FROM exports WHERE origin_id = ? AND target = ?" : Ledger.entryWithoutDocumentSQL
        return try connection.query(sql, [.text(originId), .text(target.rawValue)]).first.map { row in try entry(row) }
    }

    /// The text of the statements a batch runs for every document, made once rather than at
    /// each call (and hashed from the same storage by the statement cache).
    private static let entryWithoutDocumentSQL = "SELECT \(entryColumnsWithoutDocument) FROM exports WHERE origin_id = ? AND target = ?"

    /// The stored comparable document of an export (what `entry(loadingDocument: false)` leaves out).
    public func entryDocument(originId: String, target: ExportTarget) throws -> String? {
        try writePendingPacks()
        let column = try userVersion() >= 2 ? Ledger.storedDocument + ", " + (try storedDocumentForm()) : "document, NULL"
        guard let row = try connection.query(
            "SELECT \(column) FROM exports WHERE origin_id = ? AND target = ?", [.text(originId), .text(target.rawValue)]
        ).first else { return nil }
        return try storedText(row[0], storedAs: row[1])
    }

    /// Every document the ledger knows, by origin id.
    public func entries() throws -> [LedgerEntry] {
        if try userVersion() == 0 { return [] }
        try writePendingPacks()
        return try connection.query("SELECT \(try selectedEntryColumns()) FROM exports ORDER BY origin_id, target").map { row in try entry(row) }
    }

    /// Every export ever recorded for one document, oldest first: (version, action, changes, run).
    public func history(originId: String, target: ExportTarget) throws -> [(version: Int, action: String, changes: [String], runId: Int64)] {
        try connection.query(
            "SELECT version, action, changes, run_id FROM export_history WHERE origin_id = ? AND target = ? ORDER BY id",
            [.text(originId), .text(target.rawValue)]
        ).map { row in
            let changes = row[2].text ?? ""
            return (Int(row[0].integer ?? 0), row[1].text ?? "", changes.isEmpty ? [] : changes.split(separator: "\n").map(String.init), row[3].integer ?? 0)
        }
    }

    /// The origin id of another prime contract already exported for `projectId` to `target`.
    public func conflictingContract(projectId: String, target: ExportTarget, originId: String) throws -> String? {
        try connection.query(
            "SELECT origin_id FROM exports WHERE kind = 'prime_contract' AND target = ? AND project_id = ? AND origin_id <> ?",
            [.text(target.rawValue), .text(projectId), .text(originId)]
        ).first?.first?.text
    }

    /// Records an export (new or update) in the current transaction (or its own).
    /// Returns the version recorded.
    @discardableResult
    public func record(_ export: LedgerExport, runId: Int64, at time: String = Timestamp.now()) throws -> Int {
        try transaction {
            let previous = try entry(originId: export.originId, target: export.target, loadingDocument: false)
            let version = (previous?.version ?? 0) + 1
            // A document not exported before (read above, in this transaction) has no row to
            // conflict with: a plain INSERT, which SQLite runs in about a third of the upsert's
            // time when foreign keys are on.
            try connection.query(
                previous == nil ? Ledger.insertExportSQL : Ledger.upsertExportSQL,
                [.text(export.originId), .text(export.target.rawValue), .text(export.kind), .text(export.contentHash),
                 .integer(Int64(version)), .integer(runId), .text(time), .text(export.fileName), .optional(export.projectId),
                 .optional(export.contract?.company), .optional(export.contract?.job), .optional(export.contract?.customer),
                 .text(""), .optional(Ledger.billingItemsText(export.billingItems))])
            try connection.query(
                """
                INSERT INTO export_history (origin_id, target, version, content_hash, run_id, exported_at, action, changes)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [.text(export.originId), .text(export.target.rawValue), .integer(Int64(version)), .text(export.contentHash),
                 .integer(runId), .text(time), .text(previous == nil ? "new" : "update"), .text(export.changes.joined(separator: "\n"))])
            // Rows of an export recorded before schema 3, which billing_items now replaces (a new
            // export has none: they refer to its row).
            if previous != nil {
                try connection.query("DELETE FROM contract_items WHERE origin_id = ? AND target = ?", [.text(export.originId), .text(export.target.rawValue)])
            }
            if export.documentOfUnit == nil {
                try connection.query(
                    "UPDATE exports SET document = ? WHERE origin_id = ? AND target = ?",
                    [.text(export.document), .text(export.originId), .text(export.target.rawValue)])
            }
            return version
        }
    }

    private static let insertExportSQL = """
        INSERT INTO exports (\(Ledger.entryColumns), billing_items) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """
    private static let upsertExportSQL = insertExportSQL + """

        ON CONFLICT (origin_id, target) DO UPDATE SET kind = excluded.kind, content_hash = excluded.content_hash,
            version = excluded.version, run_id = excluded.run_id, exported_at = excluded.exported_at,
            file_name = excluded.file_name, project_id = excluded.project_id, company = excluded.company,
            job = excluded.job, customer = excluded.customer, document = excluded.document,
            billing_items = excluded.billing_items
        """

    /// A prime contract's billing item codes as `exports.billing_items` keeps them (schema 3): a
    /// JSON array, sorted, without repeats; nil for none. They were a row each in
    /// `contract_items`, 100 B-tree inserts per contract (9% of a run's instructions, 10 MB of a
    /// 24 MB ledger); rows written there before are still read.
    /// A contract's lines usually come in code order, in ASCII: such codes are written as they
    /// are (`plainBillingItemsText`); any others take the general way.
    static func billingItemsText(_ codes: [String]) -> String? {
        guard !codes.isEmpty else { return nil }
        return plainBillingItemsText(codes) ?? billingItemsTextBySorting(codes)
    }

    /// Any codes: deduplicated and sorted as Strings (by canonical equivalence), written through
    /// a tree. Codes already strictly ascending skip the set and the sort.
    static func billingItemsTextBySorting(_ codes: [String]) -> String? {
        guard !codes.isEmpty else { return nil }
        let ascending = zip(codes, codes.dropFirst()).allSatisfy { $0 < $1 }
        var list: [UInt8] = []
        JSONWriter.write(.array((ascending ? codes : Set(codes).sorted()).map(JSONValue.string)), into: &list)
        return String(decoding: list, as: UTF8.self)
    }

    /// The codes' JSON array written byte by byte, when every code is printable ASCII without a
    /// quote or backslash (nothing to escape) and each is byte-wise after the one before: for
    /// ASCII, byte order is String order and distinct codes are never equivalent, so the list is
    /// sorted without repeats as it stands. nil otherwise. Each code is compared with the bytes
    /// of the one before as written. The String comparisons and the tree cost 60,000
    /// instructions a 100-line contract.
    static func plainBillingItemsText(_ codes: [String]) -> String? {
        // `[`, then per code its two quotes and a comma (the last one's is `]`).
        var capacity = 1 + 3 * codes.count
        for code in codes { capacity += code.utf8.count }
        var plain = true
        let text = String(unsafeUninitializedCapacity: capacity) { out in
            out[0] = UInt8(ascii: "[")
            var count = 1
            var previous = 0..<0
            for (index, code) in codes.enumerated() {
                let written: Bool? = code.utf8.withContiguousStorageIfAvailable { bytes in
                    for byte in bytes where byte >= 0x80 || JSONByteOutput.needsEscape(byte) { return false }
                    if index > 0 {
                        let common = min(previous.count, bytes.count)
                        let order = common == 0 ? 0 : memcmp(out.baseAddress! + previous.lowerBound, bytes.baseAddress!, common)
                        guard order < 0 || (order == 0 && previous.count < bytes.count) else { return false }
                        out[count] = UInt8(ascii: ",")
                        count += 1
                    }
                    out[count] = UInt8(ascii: "\"")
                    count += 1
                    if let base = bytes.baseAddress { (out.baseAddress! + count).initialize(from: base, count: bytes.count) }
                    previous = count..<count + bytes.count
                    count += bytes.count
                    out[count] = UInt8(ascii: "\"")
                    count += 1
                    return true
                }
                guard written == true else {
                    plain = false
                    return 0
                }
            }
            out[count] = UInt8(ascii: "]")
            return count + 1
        }
        return plain ? text : nil
    }

    /// The codes of `exports.billing_items`; a value that is not a JSON array of strings is a
    /// damaged ledger (an error: the validator would otherwise miss codes it must check).
    private func billingItems(in value: SQLiteValue) throws -> [String] {
        guard let text = value.text else { return [] }
        guard case .array(let items)? = try? JSONParser.parse(text), items.allSatisfy({ $0.stringValue != nil }) else {
            throw LedgerError(path: path, message: "an export's billing items are damaged: not a JSON array of codes")
        }
        return items.compactMap(\.stringValue)
    }

    /// The column of `billingItems(in:)`, or NULL before schema 3 (a ledger opened to read).
    private func billingItemsColumn() throws -> String { try userVersion() >= 3 ? "e.billing_items" : "NULL" }

    // MARK: For the validator

    /// What earlier runs exported, for the validator (see ExportHistory).
    public func exportHistory() throws -> ExportHistory {
        if try userVersion() == 0 { return .empty }
        var history = ExportHistory()
        for row in try connection.query("SELECT project_id, origin_id FROM exports WHERE kind = 'prime_contract' AND project_id IS NOT NULL ORDER BY origin_id") {
            if let project = row[0].text, let origin = row[1].text, history.contractsByProject[project] == nil {
                history.contractsByProject[project] = origin
            }
        }
        for row in try connection.query(
            """
            SELECT e.company, e.job, e.customer, i.code, \(try billingItemsColumn()) FROM exports e
            LEFT JOIN contract_items i ON i.origin_id = e.origin_id AND i.target = e.target
            WHERE e.kind = 'prime_contract' AND e.company IS NOT NULL AND e.job IS NOT NULL AND e.customer IS NOT NULL
            """
        ) {
            guard let company = row[0].text, let job = row[1].text, let customer = row[2].text else { continue }
            let key = ContractKey(company: company, job: job, customer: customer)
            var codes = history.billingItemsByContract[key] ?? []
            if let code = row[3].text { codes.insert(code) }
            codes.formUnion(try billingItems(in: row[4]))
            history.billingItemsByContract[key] = codes
        }
        return history
    }

    /// Direct queries, for callers that hold a ledger rather than a snapshot: the origin id of
    /// the prime contract exported for a Procore project.
    public func exportedContract(forProject projectId: String) throws -> String? {
        if try userVersion() == 0 { return nil }
        return try connection.query(
            "SELECT origin_id FROM exports WHERE kind = 'prime_contract' AND project_id = ? ORDER BY origin_id LIMIT 1", [.text(projectId)]
        ).first?.first?.text
    }

    /// Billing item codes of an exported prime contract; nil when it was never exported.
    public func billingItems(of contract: ContractKey) throws -> Set<String>? {
        if try userVersion() == 0 { return nil }
        let rows = try connection.query(
            """
            SELECT i.code, \(try billingItemsColumn()) FROM exports e LEFT JOIN contract_items i ON i.origin_id = e.origin_id AND i.target = e.target
            WHERE e.kind = 'prime_contract' AND e.company = ? AND e.job = ? AND e.customer = ?
            """,
            [.text(contract.company), .text(contract.job), .text(contract.customer)])
        guard !rows.isEmpty else { return nil }
        var codes = Set(rows.compactMap { $0.first?.text })
        for row in rows { codes.formUnion(try billingItems(in: row[1])) }
        return codes
    }

    /// SQLite's own consistency check: "ok" when the file is sound. A PostgreSQL server keeps
    /// its own consistency; there it says "ok" once a query answers.
    public func integrityCheck() throws -> String {
        if connection.dialect == .postgresql { return try connection.query("SELECT 'ok'").first?.first?.text ?? "" }
        return try connection.query("PRAGMA integrity_check").map { $0.first?.text ?? "" }.joined(separator: "\n")
    }
}

/// UTC time stamps as the ledger and report write them (`2025-03-14T09:26:53Z`).
public enum Timestamp {
    public static func now() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return format(seconds: Int(spec.tv_sec))
    }

    public static func format(seconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        // Years 0 to 9999 (every stamp a run makes) as digits into a buffer: a ledger row takes
        // two or three stamps, and padding and interpolating took 3,000 instructions each.
        let year = Int(parts.tm_year) + 1900
        guard (0...9999).contains(year) else { return paddedFormat(parts) }
        return String(unsafeUninitializedCapacity: 20) { out in
            func put(_ value: Int, _ width: Int, at offset: Int) {
                var rest = value
                for place in stride(from: offset + width - 1, through: offset, by: -1) {
                    out[place] = UInt8(ascii: "0") + UInt8(rest % 10)
                    rest /= 10
                }
            }
            put(year, 4, at: 0)
            out[4] = UInt8(ascii: "-")
            put(Int(parts.tm_mon) + 1, 2, at: 5)
            out[7] = UInt8(ascii: "-")
            put(Int(parts.tm_mday), 2, at: 8)
            out[10] = UInt8(ascii: "T")
            put(Int(parts.tm_hour), 2, at: 11)
            out[13] = UInt8(ascii: ":")
            put(Int(parts.tm_min), 2, at: 14)
            out[16] = UInt8(ascii: ":")
            put(Int(parts.tm_sec), 2, at: 17)
            out[19] = UInt8(ascii: "Z")
            return 20
        }
    }

    /// `format` for any year, padded as it always was (the tests' oracle of the digits above).
    static func paddedFormat(_ parts: tm) -> String {
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))Z"
    }
}
