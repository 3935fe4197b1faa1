import Testing
@testable import SOVCore
import SOVTestSupport

/// `trimmingSpaces` cuts by bytes where the bytes beside the cut are ASCII; these check it against
/// the Character-wise trim it replaced (`trimmingSpacesByCharacter`), byte for byte.
@Suite("trimmingSpaces")
struct TrimmingSpacesTests {
    private func expectSameTrim(_ text: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        let expected = text.trimmingSpacesByCharacter
        #expect(Array(text.trimmingSpaces.utf8) == Array(expected.utf8), "\(Array(text.unicodeScalars))", sourceLocation: sourceLocation)
        // A Substring (a field cut from a line) trims alike, whatever lies around it.
        let framed = "\u{301}x " + text + " y\u{600}"
        let inner = framed.dropFirst(2).dropLast(2)
        #expect(Array(inner.trimmingSpaces.utf8) == Array(inner.trimmingSpacesByCharacter.utf8), "\(Array(text.unicodeScalars)) in a Substring", sourceLocation: sourceLocation)
    }

    @Test("fixed cases: ASCII, empty, only blanks, and non-ASCII at, beside and away from the cut",
          arguments: [
              "", " ", "\t", " \t \t", "a", " a", "a ", "  20-0000  ", "\t01-007\t", "in  side", " in side\t",
              "\r\n", " \r\n ", "\n a \n", "é", " é ", "\té\t", " 漢字 ", "🚧 ", " 🚧",
              // A space or tab that a combining mark follows is one Character with it: kept.
              " \u{301}", "  \u{301}abc", "abc \u{301}", "\t\u{301} ", " \u{200D}x",
              // A prepended mark (U+0600) takes the space after it into its Character: kept.
              "x\u{600} ", "\u{600} ", "x\u{600}\t\t", " \u{600}x ",
              // Regional indicators and Hangul jamo beside spaces.
              " 🇨🇦 ", "\u{1100}\u{1161} ", " \u{1100}",
              "\u{A0}a\u{A0}", "\u{3000}x\u{3000}",
          ])
    func fixedCases(_ text: String) {
        expectSameTrim(text)
    }

    @Test("5,000 generated strings of spaces, tabs, ASCII, combining and prepended marks and other scalars")
    func generated() {
        var random = SplitMix64(seed: 0x7215_9ACE)
        let pieces: [String] = [" ", "\t", " ", "\t", "a", "Z", "0", "-", "\r", "\n", "\r\n", "é", "e\u{301}", "\u{301}", "\u{200D}", "\u{600}", "漢", "🚧", "🇨", "\u{A0}", "\u{1100}", "\u{1161}"]
        for _ in 0..<5_000 {
            let count = Int(random.next() % 9)
            var text = ""
            for _ in 0..<count { text += pieces[Int(random.next() % UInt64(pieces.count))] }
            expectSameTrim(text)
        }
    }
}
