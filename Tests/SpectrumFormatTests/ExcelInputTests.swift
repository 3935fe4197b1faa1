import SOVCore
import Testing

@testable import SpectrumFormat

/// Spectrum exports as people save them from Excel: dates without leading zeros, `$` amounts,
/// blank rows, `;` as the delimiter. Strict by default; exact when a profile says so.
struct ExcelInputTests {
    @Test func dateFormatsAreReadExactlyAndNeverGuessed() {
        let us: [SpectrumDateFormat] = [.monthDayYear, .looseMonthDayYear, .iso]
        #expect(SpectrumDateFormat.read("3/4/2024", formats: us).map(\.date.iso) == ["2024-03-04"])
        #expect(SpectrumDateFormat.read("03/04/2024", formats: us).map(\.date.iso) == ["2024-03-04"])
        #expect(SpectrumDateFormat.read("2/30/2024", formats: us).isEmpty, "not a calendar date")
        #expect(SpectrumDateFormat.read("3/4/24", formats: us).isEmpty, "two-digit years are refused")
        #expect(SpectrumDateFormat.read("3-4-2024", formats: us).isEmpty)
        #expect(SpectrumDateFormat.read("3/4/2024", formats: SpectrumDateFormat.standard).isEmpty, "strict by default")
        // Month-first and day-first together: a value both can read is ambiguous.
        let both: [SpectrumDateFormat] = [.looseMonthDayYear, .looseDayMonthYear]
        #expect(SpectrumDateFormat.read("3/4/2024", formats: both).map(\.date.iso) == ["2024-03-04", "2024-04-03"])
        #expect(SpectrumDateFormat.read("3/14/2024", formats: both).map(\.date.iso) == ["2024-03-14"])
        #expect(SpectrumDateFormat.read("4/4/2024", formats: both).map(\.date.iso) == ["2024-04-04"], "the same date either way")
    }

    @Test func currencySymbolsOnlyWhenNamed() {
        #expect(ValueReader.withoutCurrencySymbol("$98,500.00", ["$"]) == "98,500.00")
        #expect(ValueReader.withoutCurrencySymbol("-$5.00", ["$"]) == "-5.00")
        #expect(ValueReader.withoutCurrencySymbol("($5.00)", ["$"]) == "(5.00)")
        #expect(ValueReader.withoutCurrencySymbol("$98,500.00", []) == "$98,500.00")
        #expect(ValueReader.withoutCurrencySymbol("€5.00", ["$"]) == "€5.00")
    }

    @Test func theDelimiterIsSniffedOnlyWhenItIsPlain() {
        func sniff(_ text: String) -> String { String(UnicodeScalar(CSVRecordReader.sniffDelimiter(headerLine: Array(text.utf8)))) }
        #expect(sniff("\u{FEFF}Company_Code;Job_Number;Customer_Code\r\n1;2;3") == ";")
        #expect(sniff("Company_Code\tJob_Number\n") == "\t")
        #expect(sniff("Company_Code|Job_Number\n") == "|")
        #expect(sniff("Company_Code,Job_Number;x\n") == ",", "a comma wins: the header reads as it always did")
        #expect(sniff("Company_Code;Job_Number|x\n") == ",", "two candidates: nothing is guessed")
        #expect(sniff("Company_Code\n") == ",")
    }

    @Test func theProfileNamesTheNewSettingsAndRefusesUnknownFormats() throws {
        let profile = try SpectrumProfile(
            json: .object([
                JSONMember("date_formats", .array([.string("M/D/YYYY"), .string("YYYY-MM-DD")])),
                JSONMember("currency_symbols", .array([.string("$")])), JSONMember("delimiter", .string("auto")),
            ]), file: "p.toml")
        #expect(profile.dateFormats == [.looseMonthDayYear, .iso])
        #expect(profile.currencySymbols == ["$"])
        #expect(profile.sniffsDelimiter)
        #expect(throws: Diagnostic.self) {
            try SpectrumProfile(json: .object([JSONMember("date_formats", .array([.string("DD.MM.YYYY")]))]), file: "p.toml")
        }
    }
}
