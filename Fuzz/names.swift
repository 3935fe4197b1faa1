import SOVCore

/// The drop folder's name handling (Sources/SOVBatch/FileSystem.swift, compiled in) on arbitrary
/// bytes, with no file system: a name as the kernel may hold it (any bytes but NUL and `/`).
/// Besides not crashing: a UTF-8 name is itself; any other is shown as valid UTF-8 text that
/// decodes back to the very bytes (so two names never meet), holds no `/`, no NUL and no `%`
/// that is not an escape; a name's role in the inbox (ignored, marker, candidate) is one, and a
/// candidate's marker is a marker of that candidate.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNames(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // The first byte picks a ready suffix; the rest, split at NUL, are names.
    let suffixes: [String?] = [nil, ".done", "", ".ok", "é"]
    let suffix = suffixes[Int(bytes.first ?? 0) % suffixes.count]
    for raw in bytes.dropFirst().split(separator: 0, omittingEmptySubsequences: true).map(Array.init) {
        let name = raw.map { $0 == UInt8(ascii: "/") ? UInt8(ascii: "_") : $0 }
        check(name, suffix: suffix)
    }
    return 0
}

private func check(_ raw: [UInt8], suffix: String?) {
    let entry = FileSystem.Entry(raw: raw)
    if let text = String(validating: raw, as: UTF8.self) {
        guard entry.isUTF8, entry.name == text else { fatalError("UTF-8 name \(raw) became '\(entry.name)'") }
    } else {
        guard !entry.isUTF8 else { fatalError("\(raw) taken for UTF-8") }
        let shown = entry.name
        guard !shown.utf8.contains(0), !shown.utf8.contains(UInt8(ascii: "/")) else { fatalError("'\(shown)' holds NUL or /") }
        guard let back = undisplay(shown), back == raw else { fatalError("'\(shown)' does not decode back to \(raw)") }
        guard FileSystem.displayName(raw) == shown else { fatalError("displayName is not a function of the bytes") }
    }
    switch FileSystem.inboxRole(entry, readySuffix: suffix) {
    case .ignored:
        guard FileSystem.isPartialOrHidden(entry.name) || (suffix.map { Array($0.utf8) } == raw) else { fatalError("\(raw) ignored for no reason") }
    case .marker(let of):
        guard let suffix, !suffix.isEmpty, of + Array(suffix.utf8) == raw else { fatalError("\(raw) is no marker of \(of)") }
    case .candidate(let marker):
        guard !FileSystem.isPartialOrHidden(entry.name) else { fatalError("hidden \(raw) is a candidate") }
        if let marker {
            guard let suffix, !suffix.isEmpty, marker == raw + Array(suffix.utf8) else { fatalError("wrong marker for \(raw)") }
            // The marker itself is never a candidate: it is a marker of this name (or hidden).
            switch FileSystem.inboxRole(FileSystem.Entry(raw: marker), readySuffix: suffix) {
            case .marker(let of): guard of == raw else { fatalError("marker of \(raw) names \(of)") }
            case .ignored: break
            case .candidate: fatalError("the marker of \(raw) would be taken as an input")
            }
        } else {
            guard suffix == nil || suffix == "" else { fatalError("\(raw) has no marker with suffix \(suffix!)") }
        }
    }
}

/// The inverse of FileSystem.displayName: `%XX` is the byte XX; anything else its UTF-8.
private func undisplay(_ text: String) -> [UInt8]? {
    var bytes: [UInt8] = []
    var utf8 = Array(text.utf8)[...]
    while let byte = utf8.first {
        if byte == UInt8(ascii: "%") {
            guard utf8.count >= 3, let value = UInt8(String(decoding: utf8.dropFirst().prefix(2), as: UTF8.self), radix: 16) else { return nil }
            bytes.append(value)
            utf8 = utf8.dropFirst(3)
        } else {
            bytes.append(byte)
            utf8 = utf8.dropFirst()
        }
    }
    return bytes
}
