/// An input that cannot be used as a whole (a missing file, malformed XML, a DOCTYPE, a truncated
/// export, a project map or markups file that is wrong): the one failure type for an input. It
/// contributes no documents, never half of them, and its status is the exit status it earns.
public struct InputFailure: Sendable, Error {
    public var path: String
    public var status: ExitStatus
    /// What is wrong, without the path (said as `path: message`).
    public var message: String
    public var diagnostics: [Diagnostic]

    public init(path: String, status: ExitStatus, message: String, diagnostics: [Diagnostic] = []) {
        self.path = path
        self.status = status
        self.message = message
        self.diagnostics = diagnostics
    }

    /// A reader's finding that makes the input unusable as a whole (malformed XML, a DOCTYPE, a
    /// truncated export, a header no layout knows): 65, and nothing from the input is used.
    public init(unusable diagnostic: Diagnostic) {
        self.init(path: diagnostic.location.file ?? "-", status: .dataError, message: "unusable as a whole; nothing from it is used", diagnostics: [diagnostic])
    }

    public init(_ failure: IOFailure) {
        self.init(path: failure.path, status: failure.status, message: failure.message)
    }

    /// A file read whole before anything runs (a profile, a project map, a markups file) that
    /// cannot be used: 66 when it could not be read (IO001), else `malformed` (65, or 64 for a
    /// setting the user wrote on the command line).
    public init(file path: String, _ diagnostics: [Diagnostic], message: String, malformed: ExitStatus = .dataError) {
        let unreadable = diagnostics.contains { $0.code == .IO001 }
        self.init(path: path, status: unreadable ? .noInput : malformed, message: message, diagnostics: diagnostics)
    }
}
