
#if canImport(Glibc)
import CSQLite
import Glibc
import SOVCore
import SOVFrontEnd
#endif

/// A ledger problem: it could not be opened, read or written. Never a data problem.
public struct LedgerError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String
    /// SQLite's primary result code (SQLITE_BUSY, SQLITE_CANTOPEN...), 0 for our own checks.
    public var code: Int32

    public init(path: String, message: String, code: Int32 = 0) {
        self.path = path
        self.message = message
        self.code = code
    }

    public var description: String { "\(path): ledger: \(message)" }

    /// Not a database problem but a wrong ledger setting (a password in a PostgreSQL URL).
    public static let usageCode: Int32 = -64

    /// docs/FORMATS.md, "Exit codes": a ledger that cannot be created or opened for writing is 73; anything else
    /// (busy past the timeout, not a database, a newer schema, a PostgreSQL server lost) is 74.
    /// PostgreSQL errors carry the SQLite code of their kind (PostgresConnection.failure).
    public var status: ExitStatus {
        if code == LedgerError.usageCode { return .usage }
        switch code & 0xFF {
        case SQLITE_CANTOPEN, SQLITE_READONLY, SQLITE_PERM, SQLITE_AUTH: return .cannotCreate
        default: return .ioError
        }
    }

    public var ioFailure: IOFailure { IOFailure(path: path, message: "ledger: \(message)", status: status) }
}

/// The few SQLite calls the ledger needs, over the system library (see `Ledger` for why not GRDB).
/// One connection, used from one thread at a time.
final class SQLiteConnection: LedgerConnection {
    private var handle: OpaquePointer?
    let path: String
    let dialect = LedgerDialect.sqlite
    var location: String { path }
    /// `PATH.claims`, opened by the first claim: one byte per unit sequence, locked while a
    /// worker of this host delivers it (see `claim`).
    private var claimsDescriptor: Int32 = -1
    /// Prepared statements by their SQL: a batch runs the same dozen statements thousands of
    /// times, and preparing one costs more than running it.
    private var statements: [String: SQLiteStatement] = [:]

    /// - Parameter readOnly: read without creating or changing any file (see `openForReading`).
    init(path: String, readOnly: Bool, busyTimeoutMilliseconds: Int32) throws(LedgerError) {
        self.path = path
        if readOnly {
            handle = try SQLiteConnection.openForReading(path, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
            return
        }
        handle = try SQLiteConnection.open(path, as: path, flags: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
    }

    /// SQLite copies a page to its sub-journal the first time a statement (or the savepoint of an
    /// input) changes it, and writes that journal to a temporary file once it holds more than
    /// 64 KB: with 64 KB pages, at the first page. A batch of 2,000 contracts wrote 560 MB there
    /// (17,000 pwrite calls) for a 24 MB ledger. Kept in memory up to 8 MB instead (that batch's
    /// stays near 1 MB), beyond that spilled to the file as before. Process-wide, and taken only
    /// before SQLite's first use (later the call is refused, harmlessly). Only undo within an
    /// open transaction reads this journal; a crash rolls back through the WAL, as before.
    ///
    /// Memory statistics are off too: SQLite then allocates without taking a mutex and counting
    /// each allocation and free (a tenth of its instructions on a batch's main thread), for the
    /// counts of `sqlite3_memory_used` and a soft heap limit, which the ledger never asks for.
    private static let statementJournalInMemory: Void = {
        _ = sov_sqlite_config_statement_journal_spill(8 << 20)
        _ = sov_sqlite_config_memory_statistics(0)
    }()

    /// Opens `name` (a path, or a URI with SQLITE_OPEN_URI); errors name `path`.
    private static func open(_ name: String, as path: String, flags: Int32, busyTimeoutMilliseconds: Int32) throws(LedgerError) -> OpaquePointer? {
        _ = statementJournalInMemory
        var handle: OpaquePointer?
        let result = sqlite3_open_v2(name, &handle, flags | SQLITE_OPEN_NOMUTEX, nil)
        if result != SQLITE_OK {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(handle)
            throw LedgerError(path: path, message: "cannot open: \(message)", code: result)
        }
        sqlite3_extended_result_codes(handle, 1)
        // Waits (rather than failing) while another run holds the write lock.
        sqlite3_busy_timeout(handle, busyTimeoutMilliseconds)
        return handle
    }

    /// Opens a WAL database to read it without creating or changing a file (a dry run writes
    /// nothing). A plain read-only connection is not enough: SQLite creates `-wal` and `-shm`
    /// beside the database for it, and writes its read marks into `-shm`. So:
    /// - when `-wal` and `-shm` are there (another connection is using the database, or one was
    ///   killed), it reads through them without writing to them (`readonly_shm`): it sees every
    ///   commit, including those still only in the WAL, and takes part in the readers' locks;
    /// - otherwise nothing committed lies outside the main file (SQLite removes `-shm`, then
    ///   `-wal`, only after copying the whole WAL into the database), and it reads that file
    ///   alone, without locks (`immutable`). The cost: a run that starts while this one reads
    ///   is not seen by it, and should that run copy its WAL into the file meanwhile (at its
    ///   end, or every 1000 pages), the file changes underneath, which SQLite may report as a
    ///   malformed database (a ledger error).
    private static func openForReading(_ path: String, busyTimeoutMilliseconds: Int32) throws(LedgerError) -> OpaquePointer? {
        // SQLite keeps -wal and -shm beside the file a link points to.
        let real = realpath(path, nil).map { pointer in
            defer { free(pointer) }
            return String(cString: pointer)
        } ?? path
        var attempt = 0
        while true {
            attempt += 1
            let shared = FileSystem.exists(real + "-wal") && FileSystem.exists(real + "-shm")
            let uri = uri(for: path) + (shared ? "?mode=ro&readonly_shm=1" : "?mode=ro&immutable=1")
            let handle = try open(uri, as: path, flags: SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
            // SQLite opens the files at the first read: done now, so that a -wal and -shm that
            // their last user removed between the check and the open mean one more try.
            let result = sqlite3_exec(handle, "PRAGMA schema_version", nil, nil, nil)
            if result == SQLITE_OK { return handle }
            let message = String(cString: sqlite3_errmsg(handle))
            sqlite3_close(handle)
            if shared && result & 0xFF == SQLITE_CANTOPEN && attempt < 3 { continue }
            throw LedgerError(path: path, message: "cannot read: \(message)", code: result)
        }
    }

    /// `path` as an SQLite URI file name: `%`, `?` and `#` escaped, an absolute path after an
    /// empty authority (`file:///srv/ledger.sqlite`), a relative one as is.
    static func uri(for path: String) -> String {
        var text = path.hasPrefix("/") ? "file://" : "file:"
        for scalar in path.unicodeScalars {
            switch scalar {
            case "%": text += "%25"
            case "?": text += "%3F"
            case "#": text += "%23"
            default: text.unicodeScalars.append(scalar)
            }
        }
        return text
    }

    deinit {
        recent.removeAll()
        statements.removeAll()
        sqlite3_close_v2(handle)
        if claimsDescriptor >= 0 { Glibc.close(claimsDescriptor) }
    }

    func insert(_ sql: String, _ values: [SQLiteValue], returning column: String) throws(LedgerError) -> Int64 {
        try query(sql, values)
        return lastInsertedRowId
    }

    func begin() throws(LedgerError) { try execute("BEGIN IMMEDIATE") }
    func commit() throws(LedgerError) { try execute("COMMIT") }
    func rollback() { try? execute("ROLLBACK") }

    func schemaVersion() throws(LedgerError) -> Int {
        Int(try query("PRAGMA user_version").first?.first?.integer ?? 0)
    }

    func setSchemaVersion(_ version: Int) throws(LedgerError) { try execute("PRAGMA user_version = \(version)") }

    /// A unit is claimed with an open file description lock (F_OFD_SETLK) on byte `seq` of
    /// `PATH.claims`: the kernel drops it when this process ends, however it ends, and a
    /// SQLite ledger is on one host, where those locks work (SQLite itself relies on them).
    func claim(_ seq: Int64) throws(LedgerError) -> Bool {
        if claimsDescriptor < 0 {
            claimsDescriptor = Glibc.open(path + ".claims", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            if claimsDescriptor < 0 {
                throw LedgerError(path: path, message: "cannot open \(path).claims: \(String(cString: strerror(errno)))", code: SQLITE_CANTOPEN)
            }
        }
        if try lockClaim(seq, lock: true) { return true }
        return false
    }

    func releaseClaim(_ seq: Int64) throws(LedgerError) {
        guard claimsDescriptor >= 0 else { return }
        _ = try lockClaim(seq, lock: false)
    }

    /// F_OFD_SETLK (37 on Linux) is not exported to Swift without _GNU_SOURCE.
    private static let ofdSetLock: Int32 = 37

    private func lockClaim(_ seq: Int64, lock: Bool) throws(LedgerError) -> Bool {
        var region = flock()
        region.l_type = Int16(lock ? F_WRLCK : F_UNLCK)
        region.l_whence = Int16(SEEK_SET)
        region.l_start = off_t(seq)
        region.l_len = 1
        region.l_pid = 0
        if fcntl(claimsDescriptor, SQLiteConnection.ofdSetLock, &region) == 0 { return true }
        if errno == EAGAIN || errno == EACCES { return false }
        throw LedgerError(path: path, message: "cannot lock \(path).claims: \(String(cString: strerror(errno)))", code: SQLITE_IOERR)
    }

    func failure(_ code: Int32, _ what: String) -> LedgerError {
        LedgerError(path: path, message: "\(what): \(String(cString: sqlite3_errmsg(handle)))", code: code)
    }

    func execute(_ sql: String) throws(LedgerError) {
        var error: UnsafeMutablePointer<CChar>?
        let result = sqlite3_exec(handle, sql, nil, nil, &error)
        if result != SQLITE_OK {
            let message = error.map { String(cString: $0) } ?? "error \(result)"
            sqlite3_free(error)
            throw LedgerError(path: path, message: message, code: result)
        }
    }

    func prepare(_ sql: String) throws(LedgerError) -> SQLiteStatement {
        var statement: OpaquePointer?
        let result = sqlite3_prepare_v2(handle, sql, -1, &statement, nil)
        guard result == SQLITE_OK, let statement else { throw failure(result, "cannot prepare") }
        return SQLiteStatement(statement, connection: self)
    }

    /// Runs `sql` with `values` bound in order, returning every row. The statement is kept for
    /// the next call with the same SQL, reset (so it holds no read lock) whatever happens.
    @discardableResult
    func query(_ sql: String, _ values: [SQLiteValue] = []) throws(LedgerError) -> [[SQLiteValue]] {
        let statement: SQLiteStatement
        if let known = recentStatement(sql) {
            statement = known
        } else if let cached = statements[sql] {
            statement = cached
            remember(sql, cached)
        } else {
            statement = try prepare(sql)
            if statements.count < 64 {
                statements[sql] = statement
                remember(sql, statement)
            }
        }
        defer { statement.reset() }
        // Parameters this call leaves out are NULL, as they were when every run ended by clearing
        // them all (1,200 instructions a call, when nearly every call binds every parameter).
        if values.count < statement.parameterCount { statement.clearBindings() }
        for (index, value) in values.enumerated() { try statement.bind(Int32(index + 1), value) }
        var rows: [[SQLiteValue]] = []
        while let row = try statement.step() { rows.append(row) }
        return rows
    }

    var lastInsertedRowId: Int64 { sqlite3_last_insert_rowid(handle) }

    /// The statements last found, by where their SQL's bytes lie: the hot statements' text is
    /// a literal or a static string, the same storage at every call, and finding it here costs
    /// a few comparisons where hashing hundreds of bytes for `statements` cost 1,200
    /// instructions a call. Each entry keeps its SQL, so no other text can come to lie there
    /// while it is listed: the same place and length is the same text.
    private var recent: [(sql: String, start: UnsafeRawPointer, count: Int, statement: SQLiteStatement)] = []
    private var nextToReplace = 0

    private static func place(of sql: String) -> (start: UnsafeRawPointer, count: Int)? {
        // A short String keeps its bytes inline: they have no place of their own.
        guard sql.utf8.count > 15 else { return nil }
        return sql.utf8.withContiguousStorageIfAvailable { bytes in bytes.baseAddress.map { (UnsafeRawPointer($0), bytes.count) } } ?? nil
    }

    private func recentStatement(_ sql: String) -> SQLiteStatement? {
        guard let place = SQLiteConnection.place(of: sql) else { return nil }
        for entry in recent where entry.start == place.start && entry.count == place.count { return entry.statement }
        return nil
    }

    private func remember(_ sql: String, _ statement: SQLiteStatement) {
        guard let place = SQLiteConnection.place(of: sql) else { return }
        let entry = (sql: sql, start: place.start, count: place.count, statement: statement)
        if recent.count < 16 {
            recent.append(entry)
        } else {
            recent[nextToReplace] = entry
            nextToReplace = (nextToReplace + 1) % 16
        }
    }
}

enum SQLiteValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case text(String)
    case blob([UInt8])

    var text: String? {
        if case .text(let value) = self { return value }
        return nil
    }

    var integer: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    var bytes: [UInt8]? {
        switch self {
        case .blob(let bytes): bytes
        case .text(let text): Array(text.utf8)
        default: nil
        }
    }

    static func optional(_ value: String?) -> SQLiteValue { value.map(SQLiteValue.text) ?? .null }
}

final class SQLiteStatement {
    private let statement: OpaquePointer
    // Unowned: the connection keeps its statements, and must still be freed (and close the file).
    private unowned let connection: SQLiteConnection

    /// How many `?` the statement has.
    let parameterCount: Int

    init(_ statement: OpaquePointer, connection: SQLiteConnection) {
        self.statement = statement
        self.connection = connection
        parameterCount = Int(sqlite3_bind_parameter_count(statement))
    }

    deinit {
        sqlite3_finalize(statement)
    }

    /// Ready to run again: stepped back to the start. Its values stay bound until bound again
    /// (or cleared).
    func reset() {
        sqlite3_reset(statement)
    }

    /// Every parameter back to NULL.
    func clearBindings() {
        sqlite3_clear_bindings(statement)
    }

    /// SQLite copies the text (SQLITE_TRANSIENT) because Swift's string buffer is temporary.
    private static var transient: sqlite3_destructor_type { unsafeBitCast(-1, to: sqlite3_destructor_type.self) }

    func bind(_ index: Int32, _ value: SQLiteValue) throws(LedgerError) {
        let result: Int32
        switch value {
        case .null: result = sqlite3_bind_null(statement, index)
        case .integer(let number): result = sqlite3_bind_int64(statement, index, number)
        case .text(let text): result = SQLiteStatement.bindText(text, to: statement, at: index)
        case .blob(let bytes):
            // A zero-length blob still needs a non-null pointer to be a blob rather than NULL.
            result = bytes.isEmpty
                ? sqlite3_bind_zeroblob(statement, index, 0)
                : bytes.withUnsafeBytes { sqlite3_bind_blob(statement, index, $0.baseAddress, Int32($0.count), SQLiteStatement.transient) }
        }
        if result != SQLITE_OK { throw connection.failure(result, "cannot bind") }
    }

    /// Binds `text` from the String's own bytes, not a C string made of it (an allocation and a
    /// copy per value). Bound as before: up to its first NUL, as SQLite reads a length of -1;
    /// empty text is text, not NULL (which a null pointer would bind).
    private static func bindText(_ text: String, to statement: OpaquePointer, at index: Int32) -> Int32 {
        var text = text
        return text.withUTF8 { bytes in
            guard let base = bytes.baseAddress, !bytes.isEmpty, bytes.count < Int(Int32.max) else {
                return bytes.isEmpty ? sqlite3_bind_text(statement, index, "", 0, transient) : sqlite3_bind_text(statement, index, String(decoding: bytes, as: UTF8.self), -1, transient)
            }
            let length = memchr(base, 0, bytes.count).map { UnsafeRawPointer($0) - UnsafeRawPointer(base) } ?? bytes.count
            return UnsafeRawPointer(base).withMemoryRebound(to: CChar.self, capacity: bytes.count) { characters in
                sqlite3_bind_text(statement, index, characters, Int32(length), transient)
            }
        }
    }

    /// The next row, or nil when done.
    func step() throws(LedgerError) -> [SQLiteValue]? {
        let result = sqlite3_step(statement)
        if result == SQLITE_DONE { return nil }
        guard result == SQLITE_ROW else { throw connection.failure(result, "statement failed") }
        var row: [SQLiteValue] = []
        for column in 0..<sqlite3_column_count(statement) {
            switch sqlite3_column_type(statement, column) {
            case SQLITE_NULL: row.append(.null)
            case SQLITE_INTEGER: row.append(.integer(sqlite3_column_int64(statement, column)))
            case SQLITE_BLOB:
                let count = Int(sqlite3_column_bytes(statement, column))
                let start = sqlite3_column_blob(statement, column)
                row.append(.blob(count == 0 || start == nil ? [] : Array(UnsafeRawBufferPointer(start: start, count: count))))
            default:
                let text = sqlite3_column_text(statement, column).map { String(cString: $0) } ?? ""
                row.append(.text(text))
            }
        }
        return row
    }
}
