import SOVCore

/// Where a unit is on its way to its target (docs/ARCHITECTURE.md, "The outbox").
public enum UnitState: String, Sendable, Hashable, CaseIterable {
    /// Written to the outbox (or its staging folder), not yet delivered.
    case pending
    /// The target has it: delivered by sov-push (with the ids it returned), written to standard
    /// output, or taken out of the outbox by a consumer.
    case delivered
    /// The target said no; its message is kept. Not tried again until `sov-ledger retry --refused`.
    case refused
    /// Delivery gave up after retries; tried again by the next push.
    case failed
    /// A newer version replaced it before it was delivered; its file is in `outbox/superseded/`.
    case superseded
}

/// Whether a unit creates its document at the target or brings an earlier creation up to date.
public enum UnitAction: String, Sendable, Hashable {
    case create
    case update
}

/// One export unit: one document's requests for one target, immutable once written.
public struct OutboxUnit: Sendable, Hashable {
    /// The ledger's sequence: unique, increasing, the order to apply units in.
    public var seq: Int64
    public var originId: String
    public var target: ExportTarget
    public var kind: String
    public var action: UnitAction
    /// The document's version this unit carries (1 for the first export).
    public var version: Int
    public var state: UnitState
    /// The file in the outbox (`00000042-spectrum-1-24-1017-own100-3f2a9c01de.json`).
    public var fileName: String
    public var contentHash: String
    /// For an update: the unit whose content it brings up to date (the target has that one, or
    /// will have it first).
    public var baseSeq: Int64?
    /// A change order's prime contract (its origin id), which must reach the target first.
    public var contractOriginId: String?
    public var runId: Int64
    public var createdAt: String
    public var stateAt: String
    public var attempts: Int
    /// The target's refusal, or the last delivery error; how a consumer took it.
    public var message: String?
    public var supersededBy: Int64?
    /// The outbox folder it was written to (real path); nil for standard output.
    public var folder: String?
    /// The Procore company (firm) the run that wrote it served: a push limited to a company
    /// delivers only its units, so firms sharing one ledger never get each other's.
    public var companyId: String?
}

/// A document waiting for something it depends on (DEP001: a change order whose prime contract
/// is not known yet). It is not exported; each run looks at it again.
public struct HeldDocument: Sendable, Hashable {
    public var originId: String
    public var target: ExportTarget
    public var kind: String
    public var reason: String
    /// The whole canonical document (JSON), so a later run can export it without its input.
    public var document: String
    public var contract: ContractKey?
    public var runId: Int64
    public var heldAt: String
}

/// A new unit to record; the ledger assigns its sequence.
public struct NewUnit: Sendable {
    public var originId: String
    public var target: ExportTarget
    public var kind: String
    public var action: UnitAction
    public var version: Int
    public var state: UnitState
    public var folder: String?
    public var contentHash: String
    public var baseSeq: Int64?
    public var contractOriginId: String?
    /// The comparable canonical document this unit carries, for the updates that follow it.
    public var document: String
    /// The unit's bytes, as written to its file: sov-push delivers from here, so a unit whose
    /// file a consumer took can still be shown, and no document is derived again to deliver it.
    public var body: [UInt8]
    /// What delivery needs beside the body (JSON): a Procore change order's ERP loop, the
    /// document's source location for messages.
    public var meta: String?
    /// The firm it belongs to (OutboxUnit.companyId).
    public var companyId: String?

    public init(originId: String, target: ExportTarget, kind: String, action: UnitAction, version: Int, state: UnitState = .pending, folder: String? = nil, contentHash: String, baseSeq: Int64? = nil, contractOriginId: String? = nil, document: String, body: [UInt8], meta: String? = nil, companyId: String? = nil) {
        self.originId = originId
        self.meta = meta
        self.companyId = companyId
        self.folder = folder
        self.target = target
        self.kind = kind
        self.action = action
        self.version = version
        self.state = state
        self.contentHash = contentHash
        self.baseSeq = baseSeq
        self.contractOriginId = contractOriginId
        self.document = document
        self.body = body
    }
}

extension Ledger {
    /// Schema 2: the outbox. Every export is a unit with a sequence and a state; held documents
    /// wait in their own table; ids the targets return are kept per key. A ledger of schema 1
    /// keeps its exports: each becomes a `delivered` unit (its file was handed over under the
    /// old naming), in the order they were recorded.
    func migrateToOutbox() throws {
        try connection.execute(
            """
            CREATE TABLE units (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                origin_id TEXT NOT NULL,
                target TEXT NOT NULL,
                kind TEXT NOT NULL,
                action TEXT NOT NULL CHECK (action IN ('create', 'update')),
                version INTEGER NOT NULL,
                state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'refused', 'failed', 'superseded')),
                file_name TEXT NOT NULL,
                folder TEXT,
                content_hash TEXT NOT NULL,
                base_seq INTEGER REFERENCES units(seq),
                contract_origin_id TEXT,
                run_id INTEGER NOT NULL REFERENCES runs(id),
                created_at TEXT NOT NULL,
                state_at TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                message TEXT,
                superseded_by INTEGER,
                document TEXT NOT NULL,
                body BLOB NOT NULL,
                meta TEXT,
                company_id TEXT
            );
            ALTER TABLE runs ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE runs ADD COLUMN superseded INTEGER NOT NULL DEFAULT 0;
            CREATE INDEX units_by_origin ON units(origin_id, target, seq);
            CREATE INDEX units_by_state ON units(state, seq);
            CREATE UNIQUE INDEX units_by_file ON units(file_name);
            CREATE TABLE held (
                origin_id TEXT NOT NULL,
                target TEXT NOT NULL,
                kind TEXT NOT NULL,
                reason TEXT NOT NULL,
                document TEXT NOT NULL,
                company TEXT,
                job TEXT,
                customer TEXT,
                run_id INTEGER NOT NULL REFERENCES runs(id),
                held_at TEXT NOT NULL,
                PRIMARY KEY (origin_id, target)
            ) WITHOUT ROWID;
            CREATE TABLE remote_ids (
                target TEXT NOT NULL,
                key TEXT NOT NULL,
                remote_id TEXT NOT NULL,
                unit_seq INTEGER,
                recorded_at TEXT NOT NULL,
                PRIMARY KEY (target, key)
            ) WITHOUT ROWID;
            INSERT INTO units (origin_id, target, kind, action, version, state, file_name, content_hash, run_id,
                created_at, state_at, message, document, body)
            SELECT e.origin_id, e.target, e.kind, CASE WHEN e.version > 1 THEN 'update' ELSE 'create' END, e.version,
                'delivered', e.file_name || '#v' || e.version, e.content_hash, e.run_id, e.exported_at, e.exported_at,
                'written as a file by a release before the outbox (ledger schema 1)', e.document, X''
            FROM exports e ORDER BY e.exported_at, e.origin_id;
            PRAGMA user_version = 2;
            """)
    }

    /// Schema 3, what a batch writes made smaller; rows already there keep their form and are
    /// read as before.
    /// - `units.stored_as` says how a unit's `document` and `body` are stored. NULL: as given
    ///   (every row written before, and every row on PostgreSQL, whose TOAST compresses large
    ///   values itself); on SQLite, where a 30 KB body took a 64 KB page and was written twice
    ///   (WAL, then checkpoint), `zstd2`: both as one zstd frame in `document`
    ///   (`ZstdPacker.pack(document:body:)`), `body` empty. Read as well: `zlib2`, the same as
    ///   one zlib stream (written until round five of issue 19), and `zlib`, each as its own
    ///   zlib stream (this release's first builds).
    /// - `exports.billing_items`: a prime contract's codes as one JSON array
    ///   (`Ledger.billingItemsText`), instead of a `contract_items` row each.
    func addCompactStorage() throws {
        try connection.execute("ALTER TABLE units ADD COLUMN stored_as TEXT")
        try connection.execute("ALTER TABLE exports ADD COLUMN billing_items TEXT")
        try connection.setSchemaVersion(3)
    }

    enum StoredPart { case document, body }

    /// A unit's stored `document` or `body` (`part`) as it was given; nil for NULL. `value` is
    /// the column that holds it: for `zstd2` and `zlib2` always `document` (`storedBodyColumn`). A packed
    /// value that does not unpack is a damaged ledger: an error, never other bytes.
    func storedBytes(_ value: SQLiteValue, storedAs: SQLiteValue, part: StoredPart) throws -> [UInt8]? {
        switch storedAs {
        case .null:
            return value.bytes
        case .text("zlib"):
            guard case .blob(let packed) = value, let bytes = ZlibPacker.unpack(packed) else {
                throw LedgerError(path: path, message: "a unit's stored copy is damaged: it is no intact zlib stream")
            }
            return bytes
        case .text(ZstdPacker.storedAs), .text("zlib2"):
            // One value of both (`UnitLayout`): a zstd frame, or a zlib stream from earlier builds.
            let zstd = storedAs == .text(ZstdPacker.storedAs)
            guard case .blob(let packed) = value, let unit = zstd ? ZstdPacker.unpackUnit(packed) : ZlibPacker.unpackUnit(packed) else {
                throw LedgerError(path: path, message: "a unit's stored copy is damaged: it is no intact \(zstd ? "zstd frame" : "zlib stream") of a document and a body")
            }
            return Array(part == .document ? unit.document : unit.body)
        default:
            throw LedgerError(path: path, message: "a unit is stored as '\(storedAs.text ?? "?")', which this SOVBridge does not know")
        }
    }

    /// A unit's stored document (read from its `document` column, whatever the form).
    func storedText(_ value: SQLiteValue, storedAs: SQLiteValue) throws -> String? {
        if case .null = storedAs, case .text(let text) = value { return text }
        return try storedBytes(value, storedAs: storedAs, part: .document).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The column that says how a unit is stored, or NULL before schema 3 (a ledger opened to read).
    private func storedAsColumn() throws -> String { try userVersion() >= 3 ? "stored_as" : "NULL" }

    /// The column that holds a unit's body: `document` for `zstd2` and `zlib2` (one frame or stream of both), which
    /// only SQLite writes (on PostgreSQL `document` is text and `body` bytea: no one CASE type).
    private func storedBodyColumn() throws -> String {
        guard connection.dialect == .sqlite, try userVersion() >= 3 else { return "body" }
        return "CASE WHEN stored_as IN ('zstd2', 'zlib2') THEN document ELSE body END"
    }

    private static let unitColumns = "seq, origin_id, target, kind, action, version, state, file_name, content_hash, base_seq, contract_origin_id, run_id, created_at, state_at, attempts, message, superseded_by, folder, company_id"

    private func unit(_ row: [SQLiteValue]) -> OutboxUnit {
        OutboxUnit(
            seq: row[0].integer ?? 0, originId: row[1].text ?? "", target: ExportTarget(rawValue: row[2].text ?? "") ?? .procore,
            kind: row[3].text ?? "", action: UnitAction(rawValue: row[4].text ?? "") ?? .create, version: Int(row[5].integer ?? 0),
            state: UnitState(rawValue: row[6].text ?? "") ?? .pending, fileName: row[7].text ?? "", contentHash: row[8].text ?? "",
            baseSeq: row[9].integer, contractOriginId: row[10].text, runId: row[11].integer ?? 0, createdAt: row[12].text ?? "",
            stateAt: row[13].text ?? "", attempts: Int(row[14].integer ?? 0), message: row[15].text, supersededBy: row[16].integer,
            folder: row[17].text, companyId: row[18].text)
    }

    private func hasOutbox() throws -> Bool { try userVersion() >= 2 }

    /// Records a new unit and names its file from the sequence it got: `name(seq)`. On SQLite its
    /// document and body are stored as one zstd frame (`addCompactStorage`), packed on the
    /// packing thread while the caller goes on: the row is written with an empty `document`,
    /// filled in before anything commits or reads it (`writePendingPacks`).
    public func addUnit(_ new: NewUnit, runId: Int64, name: (Int64) -> String, at time: String = Timestamp.now()) throws -> OutboxUnit {
        let packs = connection.dialect == .sqlite
        let inBackground = packs && unitPacker != nil
        let document: SQLiteValue = !packs ? .text(new.document) : inBackground ? .blob([]) : .blob(packer.pack(document: new.document, body: new.body))
        let body: SQLiteValue = .blob(packs ? [] : new.body)
        return try transaction {
            // The columns after the sequence and the file name.
            let values: [SQLiteValue] = [
                .text(new.contentHash), new.baseSeq.map(SQLiteValue.integer) ?? .null, .optional(new.contractOriginId), .integer(runId),
                .text(time), .text(time), document, body, .optional(new.folder), .optional(new.meta), .optional(new.companyId),
                packs ? .text(ZstdPacker.storedAs) : .null,
            ]
            let unit: [SQLiteValue] = [.text(new.originId), .text(new.target.rawValue), .text(new.kind), .text(new.action.rawValue), .integer(Int64(new.version)), .text(new.state.rawValue)]
            let seq: Int64
            let fileName: String
            if packs {
                // SQLite gives an AUTOINCREMENT row one more than the larger of the table's
                // largest sequence and the largest it ever gave (sqlite_sequence); asked first,
                // in this write transaction, the row goes in with that sequence and its name,
                // where a placeholder name and an UPDATE of the row and its file name index took
                // 24,000 instructions a unit.
                seq = try connection.query(Ledger.nextUnitSeqSQL).first?.first?.integer ?? 1
                fileName = name(seq)
                try connection.query(Ledger.insertUnitSQL, [.integer(seq)] + unit + [.text(fileName)] + values)
            } else {
                // PostgreSQL: the sequence is the server's, known only once the row is in.
                seq = try connection.insert(Ledger.insertUnitWithoutSeqSQL, unit + [.text("#unnamed-" + new.contentHash + "-" + time)] + values, returning: "seq")
                fileName = name(seq)
                try connection.query("UPDATE units SET file_name = ? WHERE seq = ?", [.text(fileName), .integer(seq)])
            }
            if inBackground, let unitPacker {
                unwrittenPacks.insert(seq)
                packsToWrite += unitPacker.add(seq: seq, document: new.document, body: new.body)
                try writeTakenPacks()
            }
            return OutboxUnit(
                seq: seq, originId: new.originId, target: new.target, kind: new.kind, action: new.action, version: new.version,
                state: new.state, fileName: fileName, contentHash: new.contentHash, baseSeq: new.baseSeq,
                contractOriginId: new.contractOriginId, runId: runId, createdAt: time, stateAt: time, attempts: 0, message: nil,
                supersededBy: nil, folder: new.folder, companyId: new.companyId)
        }
    }

    private static let insertUnitWithoutSeqSQL = """
        INSERT INTO units (origin_id, target, kind, action, version, state, file_name, content_hash, base_seq,
            contract_origin_id, run_id, created_at, state_at, document, body, folder, meta, company_id, stored_as)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """
    private static let insertUnitSQL = """
        INSERT INTO units (seq, origin_id, target, kind, action, version, state, file_name, content_hash, base_seq,
            contract_origin_id, run_id, created_at, state_at, document, body, folder, meta, company_id, stored_as)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """
    /// The sequence SQLite gives the next row of `units` (AUTOINCREMENT).
    private static let nextUnitSeqSQL = """
        SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'units'), 0), COALESCE((SELECT MAX(seq) FROM units), 0)) + 1
        """

    /// The newest unit of a document that a newer version has not replaced.
    public func latestUnit(originId: String, target: ExportTarget) throws -> OutboxUnit? {
        guard try hasOutbox() else { return nil }
        return try connection.query(Ledger.latestUnitSQL, [.text(originId), .text(target.rawValue)]).first.map(unit)
    }

    /// Asked for every document of a batch: the text made once, not at each call.
    private static let latestUnitSQL = "SELECT \(Ledger.unitColumns) FROM units WHERE origin_id = ? AND target = ? AND state <> 'superseded' ORDER BY seq DESC LIMIT 1"

    public func unit(seq: Int64) throws -> OutboxUnit? {
        guard try hasOutbox() else { return nil }
        return try connection.query("SELECT \(Ledger.unitColumns) FROM units WHERE seq = ?", [.integer(seq)]).first.map(unit)
    }

    public func unit(fileName: String) throws -> OutboxUnit? {
        guard try hasOutbox() else { return nil }
        return try connection.query("SELECT \(Ledger.unitColumns) FROM units WHERE file_name = ?", [.text(fileName)]).first.map(unit)
    }

    /// Units in sequence order, of one state, one document, or all.
    public func units(state: UnitState? = nil, originId: String? = nil) throws -> [OutboxUnit] {
        guard try hasOutbox() else { return [] }
        var conditions: [String] = []
        var values: [SQLiteValue] = []
        if let state {
            conditions.append("state = ?")
            values.append(.text(state.rawValue))
        }
        if let originId {
            conditions.append("origin_id = ?")
            values.append(.text(originId))
        }
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        return try connection.query("SELECT \(Ledger.unitColumns) FROM units\(filter) ORDER BY seq", values).map(unit)
    }

    /// The comparable document a unit carries (what an update after it is worked out against).
    public func unitDocument(seq: Int64) throws -> String? {
        if unwrittenPacks.contains(seq) { try writePendingPacks() }
        guard let row = try connection.query("SELECT document, \(try storedAsColumn()) FROM units WHERE seq = ?", [.integer(seq)]).first else { return nil }
        return try storedText(row[0], storedAs: row[1])
    }

    /// What delivery needs beside a unit's body (NewUnit.meta), nil when nothing.
    public func unitMeta(seq: Int64) throws -> JSONValue? {
        guard let text = try connection.query("SELECT meta FROM units WHERE seq = ?", [.integer(seq)]).first?.first?.text else { return nil }
        return try? JSONParser.parse(text)
    }

    /// The bytes of a unit, as written to its file.
    public func unitBody(seq: Int64) throws -> [UInt8]? {
        if unwrittenPacks.contains(seq) { try writePendingPacks() }
        guard let row = try connection.query("SELECT \(try storedBodyColumn()), \(try storedAsColumn()) FROM units WHERE seq = ?", [.integer(seq)]).first else { return nil }
        return try storedBytes(row[0], storedAs: row[1], part: .body)
    }

    /// Moves a unit to `state`, with a message (a refusal, the last error, how it was delivered).
    public func setState(_ seq: Int64, _ state: UnitState, message: String? = nil, supersededBy: Int64? = nil, countAttempt: Bool = false, at time: String = Timestamp.now()) throws {
        try transaction {
            try connection.query(
                """
                UPDATE units SET state = ?, state_at = ?, message = COALESCE(?, message), superseded_by = COALESCE(?, superseded_by),
                    attempts = attempts + ? WHERE seq = ?
                """,
                [.text(state.rawValue), .text(time), .optional(message), supersededBy.map(SQLiteValue.integer) ?? .null,
                 .integer(countAttempt ? 1 : 0), .integer(seq)])
        }
    }

    /// `failed` units (and `refused` ones when asked) back to `pending`; how many.
    @discardableResult
    public func retry(includingRefused: Bool = false, at time: String = Timestamp.now()) throws -> Int {
        guard try hasOutbox() else { return 0 }
        return try transaction {
            let states = includingRefused ? "'failed', 'refused'" : "'failed'"
            let count = try connection.query("SELECT COUNT(*) FROM units WHERE state IN (\(states))").first?.first?.integer ?? 0
            try connection.query("UPDATE units SET state = 'pending', state_at = ? WHERE state IN (\(states))", [.text(time)])
            return Int(count)
        }
    }

    // MARK: Held documents

    public func hold(_ held: HeldDocument) throws {
        try transaction {
            try connection.query(
                """
                INSERT INTO held (origin_id, target, kind, reason, document, company, job, customer, run_id, held_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (origin_id, target) DO UPDATE SET kind = excluded.kind, reason = excluded.reason,
                    document = excluded.document, company = excluded.company, job = excluded.job, customer = excluded.customer,
                    run_id = excluded.run_id, held_at = excluded.held_at
                """,
                [.text(held.originId), .text(held.target.rawValue), .text(held.kind), .text(held.reason), .text(held.document),
                 .optional(held.contract?.company), .optional(held.contract?.job), .optional(held.contract?.customer),
                 .integer(held.runId), .text(held.heldAt)])
        }
    }

    /// The document is no longer held (exported, rejected, or forgotten).
    public func release(originId: String, target: ExportTarget) throws {
        guard try hasOutbox() else { return }
        try transaction {
            try connection.query("DELETE FROM held WHERE origin_id = ? AND target = ?", [.text(originId), .text(target.rawValue)])
        }
    }

    public func heldDocuments() throws -> [HeldDocument] {
        guard try hasOutbox() else { return [] }
        return try connection.query(
            "SELECT origin_id, target, kind, reason, document, company, job, customer, run_id, held_at FROM held ORDER BY held_at, origin_id"
        ).map { row in
            var contract: ContractKey?
            if let company = row[5].text, let job = row[6].text, let customer = row[7].text {
                contract = ContractKey(company: company, job: job, customer: customer)
            }
            return HeldDocument(
                originId: row[0].text ?? "", target: ExportTarget(rawValue: row[1].text ?? "") ?? .procore, kind: row[2].text ?? "",
                reason: row[3].text ?? "", document: row[4].text ?? "", contract: contract, runId: row[8].integer ?? 0,
                heldAt: row[9].text ?? "")
        }
    }

    /// Whether the ledger holds a prime contract for this Spectrum contract that its target has
    /// not refused: what a change order bound for the same target may follow.
    public func knowsContract(_ key: ContractKey, target: ExportTarget) throws -> Bool {
        if try userVersion() == 0 { return false }
        let origin = try connection.query(
            "SELECT origin_id FROM exports WHERE kind = 'prime_contract' AND target = ? AND company = ? AND job = ? AND customer = ?",
            [.text(target.rawValue), .text(key.company), .text(key.job), .text(key.customer)]
        ).first?.first?.text
        guard let origin else { return false }
        guard let latest = try latestUnit(originId: origin, target: target) else { return true }
        return latest.state != .refused || latest.action == .update
    }

    // MARK: Ids the targets returned

    public func setRemoteId(_ id: String, for key: String, target: ExportTarget, unit seq: Int64?, at time: String = Timestamp.now()) throws {
        try transaction {
            try connection.query(
                """
                INSERT INTO remote_ids (target, key, remote_id, unit_seq, recorded_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (target, key) DO UPDATE SET remote_id = excluded.remote_id, unit_seq = excluded.unit_seq,
                    recorded_at = excluded.recorded_at
                """,
                [.text(target.rawValue), .text(key), .text(id), seq.map(SQLiteValue.integer) ?? .null, .text(time)])
        }
    }

    public func remoteId(for key: String, target: ExportTarget) throws -> String? {
        guard try hasOutbox() else { return nil }
        return try connection.query(
            "SELECT remote_id FROM remote_ids WHERE target = ? AND key = ?", [.text(target.rawValue), .text(key)]
        ).first?.first?.text
    }

    /// Ids recorded for a document and its parts (keys starting with its origin id).
    public func remoteIds(under originId: String, target: ExportTarget) throws -> [(key: String, id: String)] {
        guard try hasOutbox() else { return [] }
        return try connection.query(
            "SELECT key, remote_id FROM remote_ids WHERE target = ? AND (key = ? OR substr(key, 1, ?) = ?) ORDER BY key",
            [.text(target.rawValue), .text(originId), .integer(Int64(originId.utf8.count + 1)), .text(originId + ":")]
        ).map { ($0[0].text ?? "", $0[1].text ?? "") }
    }

    // MARK: Forgetting

    /// Removes everything the ledger knows of a document (so it exports again as new); its
    /// unit files stay where they are. Returns whether it knew anything.
    @discardableResult
    public func forget(originId: String) throws -> Bool {
        try transaction {
            var known = false
            for table in ["exports", "export_history", "contract_items"] {
                let count = try connection.query("SELECT COUNT(*) FROM \(table) WHERE origin_id = ?", [.text(originId)]).first?.first?.integer ?? 0
                known = known || count > 0
                try connection.query("DELETE FROM \(table) WHERE origin_id = ?", [.text(originId)])
            }
            if try hasOutbox() {
                for table in ["units", "held"] {
                    let count = try connection.query("SELECT COUNT(*) FROM \(table) WHERE origin_id = ?", [.text(originId)]).first?.first?.integer ?? 0
                    known = known || count > 0
                }
                // Later units name earlier ones as their base: those links go first.
                try connection.query("UPDATE units SET base_seq = NULL WHERE base_seq IN (SELECT seq FROM units WHERE origin_id = ?)", [.text(originId)])
                try connection.query("DELETE FROM units WHERE origin_id = ?", [.text(originId)])
                try connection.query("DELETE FROM held WHERE origin_id = ?", [.text(originId)])
                try connection.query(
                    "DELETE FROM remote_ids WHERE key = ? OR substr(key, 1, ?) = ?",
                    [.text(originId), .integer(Int64(originId.utf8.count + 1)), .text(originId + ":")])
            }
            return known
        }
    }
}
