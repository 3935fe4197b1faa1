
#if canImport(Glibc)
import Glibc
import SOVCore
import SOVFrontEnd
#endif

/// The SQL dialect behind a ledger connection: where the two differ (DDL, the schema version,
/// generated ids, the write lock), `Ledger` asks its connection rather than testing this.
enum LedgerDialect: String, Sendable {
    case sqlite
    case postgresql
}

/// What `Ledger` needs from a database: statements with `?` placeholders and values bound in
/// order, rows back as `SQLiteValue`s, one write transaction at a time. SQLite (a file) and
/// PostgreSQL (a server shared by many workers) implement it; `Ledger` is the one interface its
/// callers see (docs/ARCHITECTURE.md, "Ledger backends").
protocol LedgerConnection: AnyObject {
    var dialect: LedgerDialect { get }
    /// What messages name: the file's path, or the server's URL (never with a password).
    var location: String { get }
    /// Runs one or more statements without values.
    func execute(_ sql: String) throws(LedgerError)
    /// Runs one statement with `values` bound to its `?`s in order; every row it returns.
    @discardableResult
    func query(_ sql: String, _ values: [SQLiteValue]) throws(LedgerError) -> [[SQLiteValue]]
    /// Runs an INSERT and returns the id the database generated for `column`.
    func insert(_ sql: String, _ values: [SQLiteValue], returning column: String) throws(LedgerError) -> Int64
    /// Starts the write transaction: exclusive among writers of this ledger (SQLite's
    /// `BEGIN IMMEDIATE`; on PostgreSQL a transaction-scoped advisory lock), so that two runs
    /// never both decide to export the same document.
    func begin() throws(LedgerError)
    func commit() throws(LedgerError)
    func rollback()
    /// The ledger schema version stored in the database; 0 for an empty one.
    func schemaVersion() throws(LedgerError) -> Int
    /// A statement that records `version` (run inside the migration's transaction).
    func setSchemaVersion(_ version: Int) throws(LedgerError)
    /// Claims a unit for this process until `releaseClaim` or its end (a worker killed with -9
    /// releases everything it held); false when another worker holds it.
    func claim(_ seq: Int64) throws(LedgerError) -> Bool
    func releaseClaim(_ seq: Int64) throws(LedgerError)
}

extension LedgerConnection {
    @discardableResult
    func query(_ sql: String) throws(LedgerError) -> [[SQLiteValue]] { try query(sql, []) }
}

/// Where a ledger lives, from what the user wrote after `--ledger` (or `ledger =`): a
/// `postgresql://` (or `postgres://`) URL names a server; anything else is a SQLite file.
public enum LedgerLocation: Sendable, Equatable {
    case sqlite(path: String)
    case postgresql(PostgresURL)

    public init(_ text: String) throws(LedgerError) {
        if PostgresURL.isURL(text) {
            self = .postgresql(try PostgresURL(text))
        } else {
            self = .sqlite(path: text)
        }
    }

    /// What messages and reports show: the path, or the URL without any secret.
    public var display: String {
        switch self {
        case .sqlite(let path): path
        case .postgresql(let url): url.display
        }
    }
}

/// A PostgreSQL ledger URL: `postgresql://USER@HOST:PORT/DB[?PARAMS]`, in libpq's own URI syntax
/// (so `sslmode=verify-full`, `host=/run/postgresql` and the rest work as documented there).
/// A password is never taken from it: libpq reads `PGPASSWORD` or `~/.pgpass` itself, and our
/// own parameter `password_file=PATH` names a file, readable by its owner only, holding it.
public struct PostgresURL: Sendable, Equatable {
    /// The URL as given, with `password_file` removed: what libpq connects with.
    public var connectionURI: String
    /// Where the password comes from, if a file holds it.
    public var passwordFile: String?

    public static func isURL(_ text: String) -> Bool { LedgerAddress.isServer(text) }

    public init(_ text: String) throws(LedgerError) {
        let (base, query) = PostgresURL.split(text)
        var kept: [String] = []
        var passwordFile: String?
        for parameter in query.split(separator: "&", omittingEmptySubsequences: true) {
            let pair = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(pair[0])
            if name == "password" {
                throw LedgerError(path: PostgresURL.redact(text), message: "a password in the ledger URL is refused (it would show in process lists and logs); give it in PGPASSWORD, ~/.pgpass or password_file=PATH", code: LedgerError.usageCode)
            }
            if name == "password_file" {
                passwordFile = pair.count > 1 ? PostgresURL.percentDecoded(String(pair[1])) : ""
                continue
            }
            kept.append(String(parameter))
        }
        // USER:PASSWORD@ in the authority: refused for the same reason.
        let afterScheme = base.drop(while: { $0 != "/" }).dropFirst(2)
        let authority = afterScheme.prefix(while: { $0 != "/" })
        if let at = authority.lastIndex(of: "@"), authority[..<at].contains(":") {
            throw LedgerError(path: PostgresURL.redact(text), message: "a password in the ledger URL is refused (it would show in process lists and logs); give it in PGPASSWORD, ~/.pgpass or password_file=PATH", code: LedgerError.usageCode)
        }
        if passwordFile == "" {
            throw LedgerError(path: PostgresURL.redact(text), message: "password_file= names no file", code: LedgerError.usageCode)
        }
        self.passwordFile = passwordFile
        connectionURI = kept.isEmpty ? base : base + "?" + kept.joined(separator: "&")
    }

    /// The URL to show: as given (it holds no password), `password_file` included.
    public var display: String {
        guard let passwordFile else { return connectionURI }
        return connectionURI + (connectionURI.contains("?") ? "&" : "?") + "password_file=" + passwordFile
    }

    private static func split(_ text: String) -> (String, Substring) {
        guard let mark = text.firstIndex(of: "?") else { return (text, "") }
        return (String(text[..<mark]), text[text.index(after: mark)...])
    }

    /// `text` with anything that may be a secret cut out: what an error about a refused URL shows.
    static func redact(_ text: String) -> String {
        let (base, _) = split(text)
        let scheme = base.hasPrefix("postgresql://") ? "postgresql://" : "postgres://"
        guard base.hasPrefix(scheme) else { return "(a ledger URL)" }
        let rest = base.dropFirst(scheme.count)
        let authority = rest.prefix(while: { $0 != "/" })
        let path = rest.dropFirst(authority.count)
        var shown = authority
        if let at = authority.lastIndex(of: "@") {
            let user = authority[..<at].prefix(while: { $0 != ":" })
            shown = user + authority[at...]
        }
        return scheme + shown + path
    }

    static func percentDecoded(_ text: String) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
               let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Reads the password file: its first line. Like the delivery secrets, only a file no one
    /// but its owner can read or write is accepted.
    func readPassword() throws(LedgerError) -> String? {
        guard let passwordFile else { return nil }
        var info = stat()
        guard stat(passwordFile, &info) == 0 else {
            throw LedgerError(path: display, message: "password_file \(passwordFile): \(String(cString: strerror(errno)))", code: LedgerError.usageCode)
        }
        if info.st_mode & 0o077 != 0 {
            throw LedgerError(path: display, message: "password_file \(passwordFile) can be read by others (mode \(String(info.st_mode & 0o777, radix: 8))); chmod 600 it", code: LedgerError.usageCode)
        }
        let bytes: [UInt8]
        do { bytes = try InputFile(path: passwordFile).readAll(limit: 1 << 16) } catch {
            throw LedgerError(path: display, message: "password_file \(passwordFile) cannot be read", code: LedgerError.usageCode)
        }
        let text = String(decoding: bytes, as: UTF8.self)
        return String(text.prefix(while: { $0 != "\n" && $0 != "\r" }))
    }
}
