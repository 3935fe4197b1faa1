import SOVTestSupport
@testable import SOVBatch
import SOVCore
import Testing

/// `AtomicFile.safeFileName` (what `ExportTarget.fileName(for:)` names a document's file by)
/// makes its name from the id's bytes; these check it against the scalar-by-scalar mapping it
/// stands for, byte for byte.
@Suite("Export file names")
struct ExportFileNameTests {
    /// The name as it was first made: every scalar outside `a-z A-Z 0-9 - .` as `_`.
    private static func scalarByScalar(_ id: String) -> String {
        String(id.unicodeScalars.map { scalar -> Character in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "-", ".": Character(scalar)
            default: "_"
            }
        })
    }

    private func expectSameName(_ id: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        let made = AtomicFile.safeFileName(id)
        #expect(Array(made.utf8) == Array(Self.scalarByScalar(id).utf8), "\(Array(id.unicodeScalars))", sourceLocation: sourceLocation)
    }

    @Test("fixed ids: plain, empty, every ASCII byte, and non-ASCII of every UTF-8 length",
          arguments: [
              "", "spectrum:1:24-1017:OWN100", "spectrum:1:24-1017:OWN100:co:003", "procore:pcco:1186921", "a.b-c_d e/f\\g",
              String(decoding: (0..<128).map { UInt8($0) }, as: UTF8.self), "é", "e\u{301}", "漢字", "🚧", "🇨🇦", "x\u{200D}y", "\u{FEFF}id",
              "spectrum:Bäckerei:24-1017:Öl", String(repeating: "ü", count: 300),
          ])
    func fixedIds(_ id: String) {
        expectSameName(id)
    }

    @Test("3,000 generated ids")
    func generatedIds() {
        var random = SplitMix64(seed: 0x51F3_F11E)
        let pieces = ["a", "Z", "0", "9", "-", ".", ":", "_", " ", "/", "\u{0}", "\u{7F}", "é", "\u{301}", "ß", "漢", "🚧", "\u{10FFFF}"]
        for _ in 0..<3_000 {
            let id = (0..<Int(random.next() % 12)).map { _ in pieces[Int(random.next() % UInt64(pieces.count))] }.joined()
            expectSameName(id)
        }
    }

    @Test("a document's file name is its origin id's")
    func documentFileName() {
        let document = Fixtures.contract(job: "24-1017")
        #expect(ExportTarget(for: document).fileName(for: document) == Self.scalarByScalar(document.originId) + ".json")
    }
}
