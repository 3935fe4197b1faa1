import SOVCore
import SpectrumFormat
import SOVTestSupport
import Testing

@Suite("Spectrum writer: XML text and GUIDs")
struct SpectrumWriterEscapingTests {
    typealias F = WriterFixture

    @Test func escapesMarkupQuotesAndCarriageReturn() {
        #expect(XMLEscaping.escape("plain 01-100") == "plain 01-100")
        #expect(XMLEscaping.escape("A&B <c> \"d\" 'e'") == "A&amp;B &lt;c&gt; &quot;d&quot; &apos;e&apos;")
        #expect(XMLEscaping.escape("a\r\nb\tc") == "a&#13;\nb\tc")
        #expect(XMLEscaping.escape("Électricité — ✓ 𝄞") == "Électricité — ✓ 𝄞")
    }

    @Test func findsCharactersXMLForbids() {
        #expect(XMLEscaping.firstForbiddenCharacter(in: "ok\t\n\r text") == nil)
        let found = XMLEscaping.firstForbiddenCharacter(in: "bell\u{07}here")
        #expect(found?.position == 5)
        #expect(found.map { XMLEscaping.describe($0.scalar) } == "U+0007")
        #expect(XMLEscaping.firstForbiddenCharacter(in: "x\u{FFFE}")?.position == 2)
        #expect(XMLEscaping.firstForbiddenCharacter(in: "\u{0}")?.position == 1)
        #expect(XMLEscaping.escape("a\u{1}b") == "a\u{FFFD}b")
    }

    @Test func forbiddenCharacterRejectsTheDocumentWithADiagnostic() {
        let result = F.export(F.order(title: "Storm\u{0B}drain"))
        #expect(result.export == nil)
        #expect(F.codes(result) == [.FMT008])
        let diagnostic = result.diagnostics[0]
        #expect(diagnostic.location.field == "CR_Description")
        #expect(diagnostic.message.contains("U+000B"))
        #expect(diagnostic.location.file == "pcco.json")
    }

    @Test func forbiddenCharacterInACodeIsFoundToo() {
        var lines = F.standardLines
        lines[0].item = "10\u{1F}0"
        let result = F.export(F.order(lines: lines))
        #expect(F.codes(result) == [.FMT008])
        #expect(result.diagnostics[0].location.field == "CR_Billing_Item_Code")
    }

    @Test func guidIsAVersion4UUID() {
        var generator = SplitMix64(seed: 1)
        var seen = Set<String>()
        for _ in 0..<200 {
            let guid = SpectrumGUID.make(using: &generator)
            let parts = guid.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
            #expect(parts.map(\.count) == [8, 4, 4, 4, 12])
            #expect(guid.allSatisfy { "0123456789abcdef-".contains($0) })
            #expect(parts[2].first == "4")
            #expect("89ab".contains(parts[3].first!))
            seen.insert(guid)
        }
        #expect(seen.count == 200)
        var again = SplitMix64(seed: 1)
        var first = SplitMix64(seed: 1)
        #expect(SpectrumGUID.make(using: &again) == SpectrumGUID.make(using: &first))
        #expect(SpectrumGUID.make() != SpectrumGUID.make())
    }
}
