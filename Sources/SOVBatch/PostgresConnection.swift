import CPostgres
import CSQLite
import SOVCore

#if canImport(Glibc)
import Glibc
#endif

/// A ledger on a PostgreSQL server, through libpq (blocking, like SQLite; see
/// docs/ARCHITECTURE.md for why not postgres-nio). One connection, used from one thread at a
/// time. Statements are sent with `PQexecParams`: values travel apart from the SQL, as text
/// (the server infers each type from its place), blobs as binary `bytea`.
final class PostgresConnection: LedgerConnection {
    let dialect = LedgerDialect.postgresql
    let location: String
    private var handle: OpaquePointer?

    /// The constant of the transaction-scoped advisory lock every write transaction takes first
    /// ("SOVLEDGR"): the PostgreSQL ledger's `BEGIN IMMEDIATE`.
    static let writeLockKey: Int64 = 0x534F_564C_4544_4752
    /// The first key of the session advisory locks that claim units (the second is the unit's
    /// sequence). The two-key space never meets the one-key space of the write lock.
    static let claimClass: Int32 = 0x534F_5655

    init(url: PostgresURL, readOnly: Bool, lockTimeoutMilliseconds: Int32) throws(LedgerError) {
        location = url.display
        var keywords = ["dbname", "fallback_application_name", "connect_timeout"]
        var values = [url.connectionURI, "sovbridge", "10"]
        // libpq expands the URL given as dbname, and keywords after it override what it says:
        // a connect_timeout in the URL wins over our default.
        if url.connectionURI.contains("connect_timeout=") {
            keywords.removeLast()
            values.removeLast()
        }
        if let password = try url.readPassword() {
            keywords.append("password")
            values.append(password)
        }
        handle = PostgresConnection.connect(keywords, values)
        guard let handle, PQstatus(handle) == CONNECTION_OK else {
            let message = handle.map { PostgresConnection.oneLine(String(cString: PQerrorMessage($0))) } ?? "out of memory"
            PQfinish(handle)
            self.handle = nil
            throw LedgerError(path: location, message: "cannot connect to the server: \(message)", code: SQLITE_IOERR)
        }
        // The server's NOTICEs (an index that already exists...) are not for the user's terminal.
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
        var settings = [
            "SET lock_timeout = \(max(1, lockTimeoutMilliseconds))",
            // A worker on a link that died silently holds its claims until the server notices.
            "SET tcp_keepalives_idle = 30", "SET tcp_keepalives_interval = 10", "SET tcp_keepalives_count = 3",
        ]
        if readOnly { settings.append("SET default_transaction_read_only = on") }
        try execute(settings.joined(separator: "; "))
    }

    private static func connect(_ keywords: [String], _ values: [String]) -> OpaquePointer? {
        let keys = keywords.map { strdup($0) } + [nil]
        let vals = values.map { strdup($0) } + [nil]
        defer {
            keys.forEach { free($0) }
            vals.forEach { free($0) }
        }
        return keys.map { UnsafePointer($0) }.withUnsafeBufferPointer { keyBuffer in
            vals.map { UnsafePointer($0) }.withUnsafeBufferPointer { valueBuffer in
                PQconnectdbParams(keyBuffer.baseAddress, valueBuffer.baseAddress, 1)
            }
        }
    }

    deinit {
        PQfinish(handle)
    }

    /// libpq's messages span lines ("connection to server at ... failed: ...\n\tIs the server
    /// running...") and start with "ERROR:  ": one line for our diagnostics.
    static func oneLine(_ message: String) -> String {
        var text = message.split(whereSeparator: { $0 == "\n" || $0 == "\t" }).map { $0.trimmingSpaces() }.filter { !$0.isEmpty }.joined(separator: " ")
        if text.hasPrefix("ERROR:") { text = String(text.dropFirst(6)).trimmingSpaces() }
        return text
    }

    /// The error of a failed statement, its SQLSTATE mapped onto the SQLite codes `LedgerError`
    /// turns into exit statuses: a lost server is an I/O error (74), as is a lock not granted
    /// in time; no permission or a read-only session is "cannot write" (73).
    private func failure(_ result: OpaquePointer?, _ what: String) -> LedgerError {
        let sqlState = result.flatMap { PQresultErrorField($0, Int32(UInt8(ascii: "C"))) }.map { String(cString: $0) } ?? ""
        let raw = result.flatMap { PQresultErrorMessage($0) }.map { String(cString: $0) } ?? ""
        var message = PostgresConnection.oneLine(raw.isEmpty ? String(cString: PQerrorMessage(handle)) : raw)
        let code: Int32
        if PQstatus(handle) != CONNECTION_OK || sqlState.hasPrefix("08") || sqlState.hasPrefix("57P") {
            code = SQLITE_IOERR
            message = "lost the connection to the server (nothing of the interrupted transaction was recorded; the next run resumes): \(message)"
        } else if sqlState == "42501" {
            code = SQLITE_PERM
        } else if sqlState == "25006" {
            code = SQLITE_READONLY
        } else if sqlState.hasPrefix("23") {
            code = SQLITE_CONSTRAINT
        } else if sqlState == "55P03" {
            code = SQLITE_BUSY
        } else {
            code = SQLITE_ERROR
        }
        return LedgerError(path: location, message: "\(what): \(message)", code: code)
    }

    func execute(_ sql: String) throws(LedgerError) {
        guard let handle else { throw LedgerError(path: location, message: "not connected", code: SQLITE_IOERR) }
        let result = PQexec(handle, sql)
        defer { PQclear(result) }
        let status = result.map(PQresultStatus) ?? PGRES_FATAL_ERROR
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else { throw failure(result, "statement failed") }
    }

    @discardableResult
    func query(_ sql: String, _ values: [SQLiteValue]) throws(LedgerError) -> [[SQLiteValue]] {
        guard let handle else { throw LedgerError(path: location, message: "not connected", code: SQLITE_IOERR) }
        let text = PostgresConnection.numberedPlaceholders(sql)
        // Each value as libpq wants it: text (type left to the server), a blob as binary bytea.
        var buffers: [UnsafeMutablePointer<CChar>?] = []
        var lengths: [Int32] = []
        var formats: [Int32] = []
        var types: [Oid] = []
        defer { buffers.forEach { free($0) } }
        for value in values {
            switch value {
            case .null:
                buffers.append(nil); lengths.append(0); formats.append(0); types.append(0)
            case .integer(let number):
                buffers.append(strdup(String(number))); lengths.append(0); formats.append(0); types.append(0)
            case .text(let string):
                buffers.append(strdup(string)); lengths.append(0); formats.append(0); types.append(0)
            case .blob(let bytes):
                let copy = malloc(max(1, bytes.count))!.assumingMemoryBound(to: CChar.self)
                bytes.withUnsafeBytes { raw in if let base = raw.baseAddress { memcpy(copy, base, bytes.count) } }
                buffers.append(copy); lengths.append(Int32(bytes.count)); formats.append(1); types.append(17)
            }
        }
        let pointers = buffers.map { UnsafePointer($0) }
        let result = pointers.withUnsafeBufferPointer { valueBuffer in
            PQexecParams(handle, text, Int32(values.count), types, valueBuffer.baseAddress, lengths, formats, 0)
        }
        defer { PQclear(result) }
        let status = result.map(PQresultStatus) ?? PGRES_FATAL_ERROR
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK, let result else { throw failure(result, "statement failed") }
        var rows: [[SQLiteValue]] = []
        let columns = PQnfields(result)
        for row in 0..<PQntuples(result) {
            var values: [SQLiteValue] = []
            values.reserveCapacity(Int(columns))
            for column in 0..<columns {
                if PQgetisnull(result, row, column) != 0 {
                    values.append(.null)
                    continue
                }
                let cell = String(cString: PQgetvalue(result, row, column))
                switch PQftype(result, column) {
                case 20, 21, 23, 26: values.append(Int64(cell).map(SQLiteValue.integer) ?? .text(cell))
                case 17: values.append(.blob(PostgresConnection.bytea(cell)))
                default: values.append(.text(cell))
                }
            }
            rows.append(values)
        }
        return rows
    }

    func insert(_ sql: String, _ values: [SQLiteValue], returning column: String) throws(LedgerError) -> Int64 {
        guard let id = try query(sql + " RETURNING " + column, values).first?.first?.integer else {
            throw LedgerError(path: location, message: "an insert returned no \(column)", code: SQLITE_ERROR)
        }
        return id
    }

    func begin() throws(LedgerError) {
        try execute("BEGIN")
        do {
            try execute("SELECT pg_advisory_xact_lock(\(PostgresConnection.writeLockKey))")
        } catch {
            rollback()
            throw error
        }
    }

    func commit() throws(LedgerError) { try execute("COMMIT") }

    func rollback() { try? execute("ROLLBACK") }

    func schemaVersion() throws(LedgerError) -> Int {
        guard try query("SELECT to_regclass('sov_schema') IS NOT NULL").first?.first?.text == "t" else { return 0 }
        return Int(try query("SELECT max(version) FROM sov_schema").first?.first?.integer ?? 0)
    }

    func setSchemaVersion(_ version: Int) throws(LedgerError) {
        try execute("CREATE TABLE IF NOT EXISTS sov_schema (version BIGINT NOT NULL); DELETE FROM sov_schema; INSERT INTO sov_schema VALUES (\(version))")
    }

    func claim(_ seq: Int64) throws(LedgerError) -> Bool {
        try query("SELECT pg_try_advisory_lock(?, ?)", [.integer(Int64(PostgresConnection.claimClass)), .integer(seq & 0x7FFF_FFFF)]).first?.first?.text == "t"
    }

    func releaseClaim(_ seq: Int64) throws(LedgerError) {
        try query("SELECT pg_advisory_unlock(?, ?)", [.integer(Int64(PostgresConnection.claimClass)), .integer(seq & 0x7FFF_FFFF)])
    }

    /// `?` placeholders as PostgreSQL's `$1, $2...`; a `?` inside a quoted literal or
    /// identifier is left alone.
    static func numberedPlaceholders(_ sql: String) -> String {
        var text = ""
        var number = 0
        var quote: Character?
        for character in sql {
            if let open = quote {
                if character == open { quote = nil }
                text.append(character)
            } else if character == "'" || character == "\"" {
                quote = character
                text.append(character)
            } else if character == "?" {
                number += 1
                text += "$\(number)"
            } else {
                text.append(character)
            }
        }
        return text
    }

    /// A `bytea` in the server's text output (`\x` then hex digits).
    static func bytea(_ text: String) -> [UInt8] {
        let digits = Array(text.utf8.dropFirst(2))
        func nibble(_ byte: UInt8) -> UInt8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            default: byte &- UInt8(ascii: "A") &+ 10
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index + 1 < digits.count {
            bytes.append(nibble(digits[index]) << 4 | nibble(digits[index + 1]))
            index += 2
        }
        return bytes
    }
}

private extension Substring {
    func trimmingSpaces() -> String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}

private extension String {
    func trimmingSpaces() -> String { Substring(self).trimmingSpaces() }
}
