import Foundation
import SOVTestSupport
import SOVCore
import Testing

/// samples/excel: contract exports saved from Excel (BOM, CRLF, `$` amounts, M/D/YYYY dates,
/// trailing blank rows, a `;` variant), read with their profile.
struct ExcelSampleTests {
    @Test func theExcelSamplesReadWithTheirProfileAndAreRefusedWithout() throws {
        let files = ["samples/excel/westside-clinic.csv", "samples/excel/hillside-library-semicolon.csv"]
        let parsed = try Tool.run("sov-parse", ["--profile", "samples/excel/profile.toml"] + files)
        #expect(parsed.status == 0, "\(parsed.stderr)")
        let documents = try parsed.jsonLines()
        #expect(documents.map { $0.text("origin", "job") } == ["24-3060", "24-3050"] || documents.map { $0.text("origin", "job") } == ["24-3050", "24-3060"])
        let westside = try #require(documents.first { $0.text("origin", "job") == "24-3050" })
        #expect(westside.text("original_amount") == "601000.00")
        #expect(westside.text("contract_date") == "2025-03-04")
        #expect(westside["lines"]?.array.map { $0.text("amount") } == ["98500.00", "187250.00", "226400.00", "88850.00"])
        #expect(parsed.stderr.contains("westside-clinic.csv:6: warning: [FMT007] 3 blank rows skipped (lines 6–8)"))
        #expect(parsed.stderr.contains("hillside-library-semicolon.csv:1: warning: [FMT007] --delimiter auto: read with ';'"))

        // Without the profile: strict, and each refusal names the setting that would accept it.
        let strict = try Tool.run("sov-parse", [files[0]])
        #expect(strict.status == 1)
        #expect(strict.stderr.contains("a profile with currency_symbols = [\"$\"] accepts it"))
        #expect(strict.stderr.contains("a profile with date_formats = [\"MM/DD/YYYY\", \"M/D/YYYY\"] accepts it"))
    }

    @Test func aDateBothReadingsFitIsRefusedWithBoth() throws {
        let folder = TemporaryFolder()
        folder.write("p.toml", "date_formats = [\"M/D/YYYY\", \"D/M/YYYY\"]\n")
        folder.write("co.csv", """
            Company_Code,Job_Number,Customer_Code,Change_Order_Number,Description,Status_Code,Change_Order_Date,CO_Billing_Item_Code,Revenue
            1,24-1017,OWN100,001,Extra,A,3/4/2024,01-000,100.00
            1,24-1017,OWN100,002,Extra,A,3/14/2024,01-000,100.00

            """)
        let parsed = try Tool.run("sov-parse", ["--profile", folder.file("p.toml"), folder.file("co.csv")])
        #expect(parsed.status == 1)
        #expect(parsed.stderr.contains("Change_Order_Date: '3/4/2024' is ambiguous: 2024-03-04 as M/D/YYYY or 2024-04-03 as D/M/YYYY"))
        #expect(try parsed.jsonLines().map { $0.text("date") } == ["2024-03-14"])
    }
}
