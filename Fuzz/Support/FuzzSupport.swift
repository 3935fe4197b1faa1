import SOVCore

#if canImport(Glibc)
import Glibc
#endif

/// Fuzz input handed to the real readers as a file, since they read files (`InputFile`), not
/// memory. One file per process, rewritten for every input; in /dev/shm when it exists.
enum FuzzFile {
    nonisolated(unsafe) private static var paths: [String: String] = [:]

    /// Writes `bytes` to this process's file named `slot` and returns its path.
    static func write(_ bytes: UnsafeBufferPointer<UInt8>, slot: String = "input") -> String {
        let path: String
        if let known = paths[slot] {
            path = known
        } else {
            let folder = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
            path = "\(folder)/sovbridge-fuzz-\(getpid())-\(slot)"
            paths[slot] = path
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        precondition(fd >= 0, "cannot create \(path)")
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            precondition(written > 0 || errno == EINTR, "cannot write \(path)")
            if written > 0 { offset += written }
        }
        close(fd)
        return path
    }

    static func write(_ bytes: [UInt8], slot: String) -> String {
        bytes.withUnsafeBufferPointer { write($0, slot: slot) }
    }
}

/// Invariants every canonical document must keep, whichever reader made it: it survives the
/// JSON Lines trip between stages (written, parsed, decoded) unchanged.
enum CanonicalCheck {
    static func roundTrip(_ document: CanonicalDocument) {
        let line = document.jsonLine
        let parsed: JSONValue
        do {
            parsed = try JSONParser.parse(line)
        } catch {
            fatalError("a canonical document's JSON line does not parse: \(error)\n\(line)")
        }
        guard parsed == document.json else { fatalError("JSON writer and parser disagree on\n\(line)") }
        let decoded: CanonicalDocument
        do {
            decoded = try CanonicalDocument(json: parsed)
        } catch {
            fatalError("a canonical document does not decode: \(error.humanLine)\n\(line)")
        }
        guard decoded == document else { fatalError("a canonical document changes through JSON:\n\(line)\n\(decoded.jsonLine)") }
    }

    /// A rejected document or record still serialises (the rejects stream must never fail).
    static func reject(_ reject: Reject) {
        let text = reject.json.text
        guard (try? JSONParser.parse(text)) == reject.json else { fatalError("a reject does not survive JSON:\n\(text)") }
        guard !reject.diagnostics.isEmpty else { fatalError("a reject without a diagnostic:\n\(text)") }
        for problem in reject.diagnostics { CanonicalCheck.diagnostic(problem) }
    }

    static func diagnostic(_ diagnostic: Diagnostic) {
        if let line = diagnostic.location.line, line < 1 { fatalError("diagnostic on line \(line): \(diagnostic.humanLine)") }
        // What stderr shows: one line, whatever the input held.
        let human = diagnostic.humanLine
        guard !human.utf8.contains(where: { $0 == 0x0A || $0 == 0x0D }) else { fatalError("a diagnostic of several lines: \(human)") }
    }
}
