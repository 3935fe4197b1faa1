/// Process exit codes (docs/FORMATS.md, "Exit codes"), sysexits-style so shell scripts can tell what happened.
public enum ExitStatus: Int32, Sendable, CaseIterable, Error {
    /// All documents went through.
    case ok = 0
    /// Finished, but some documents were rejected.
    case someRejected = 1
    /// Wrong command line.
    case usage = 64
    /// An input unusable as a whole (malformed XML or JSON, a DOCTYPE, a truncated export).
    case dataError = 65
    /// An input file missing or unreadable.
    case noInput = 66
    /// An internal error: a bug.
    case software = 70
    /// An output file or folder cannot be created.
    case cannotCreate = 73
    /// A read or write failed midway.
    case ioError = 74
    /// Another watcher holds the drop folder.
    case locked = 75
    /// A delivery target unreachable, or given up on after retries (nothing lost: the next run
    /// resumes).
    case unavailable = 69
    /// A delivery target refused our credentials or authorization.
    case notPermitted = 77

    /// The more serious of two outcomes, so a batch reports its worst file.
    public func worst(_ other: ExitStatus) -> ExitStatus {
        func rank(_ status: ExitStatus) -> Int {
            switch status {
            case .ok: 0
            case .someRejected: 1
            case .dataError: 2
            case .noInput: 3
            case .unavailable: 4
            case .cannotCreate, .ioError: 5
            case .notPermitted: 6
            case .locked, .usage: 7
            case .software: 8
            }
        }
        return rank(other) > rank(self) ? other : self
    }
}
