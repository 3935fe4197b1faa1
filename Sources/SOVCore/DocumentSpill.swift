/// Canonical documents set aside until a batch has been read whole (change orders waiting for
/// their prime contracts), kept as their canonical JSON in a `ByteSpool`: in memory up to its
/// limit, then in an unlinked temporary file. So the documents a batch holds back take a few
/// bytes of memory each, not their size, however many there are.
///
/// Each document has a place (its position in the batch) and comes back in the order of places.
/// The canonical JSON is the stages' own interchange, so a document comes back equal to the one
/// set aside.
public final class DocumentSpill {
    private let spool: ByteSpool
    private var entries: [(place: Int, offset: Int, length: Int)] = []

    public init(memoryLimit: Int = 1 << 20) {
        spool = ByteSpool(memoryLimit: memoryLimit)
    }

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }

    public func append(_ document: CanonicalDocument, place: Int) throws(IOFailure) {
        var bytes: [UInt8] = []
        document.writeJSON(into: &bytes)
        entries.append((place, spool.count, bytes.count))
        try spool.append(bytes)
    }

    /// Where the spill stood, to go back to (an input rolled back takes back what it set aside).
    public struct Mark: Sendable {
        let entries: Int
        let bytes: Int
    }

    public var mark: Mark { Mark(entries: entries.count, bytes: spool.count) }

    public func truncate(to mark: Mark) throws(IOFailure) {
        if entries.count > mark.entries { entries.removeSubrange(mark.entries...) }
        try spool.truncate(to: mark.bytes)
    }

    /// Every document by place (ties in the order they came), then the spill is empty. A
    /// document that does not read back is a fault of this program, not of the input.
    public func drain(_ body: (_ place: Int, _ document: CanonicalDocument) throws -> Void) throws {
        let ordered = entries.enumerated().sorted { ($0.element.place, $0.offset) < ($1.element.place, $1.offset) }
        for (_, entry) in ordered {
            let bytes = try spool.bytes(at: entry.offset, count: entry.length)
            let document: CanonicalDocument
            do {
                document = try CanonicalDocument(json: JSONParser.parse(bytes))
            } catch {
                throw InputFailure(path: "<spill>", status: .software, message: "internal error: a document set aside does not read back: \(error)")
            }
            try body(entry.place, document)
        }
        entries.removeAll()
        try spool.removeAll()
    }
}
