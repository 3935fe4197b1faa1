import Foundation
import SOVBatch
import SOVCore
import SOVFrontEnd
import SOVTestSupport
import Testing

/// The key table (`Setting.all`) drives the flags, the configuration file and the README: these
/// tests hold the three to it.
struct SettingsTableTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// The README's table of settings is the one the key table makes. To refresh it after a
    /// change to the table: `SOV_UPDATE_SNAPSHOTS=1 swift test --filter SettingsTableTests`.
    @Test func theReadmeTableIsTheKeyTable() throws {
        let path = Self.root + "/README.md"
        let readme = try String(contentsOfFile: path, encoding: .utf8)
        let begin = "<!-- settings-table: generated from Setting.all; SettingsTableTests keeps it in step -->\n"
        let end = "\n<!-- end settings-table -->"
        let start = try #require(readme.range(of: begin))
        let stop = try #require(readme.range(of: end, range: start.upperBound..<readme.endIndex))
        let current = String(readme[start.upperBound..<stop.lowerBound])
        if ProcessInfo.processInfo.environment["SOV_UPDATE_SNAPSHOTS"] == "1", current != Setting.markdownTable {
            try (readme[..<start.upperBound] + Setting.markdownTable + readme[stop.lowerBound...]).write(toFile: path, atomically: true, encoding: .utf8)
            return
        }
        #expect(current == Setting.markdownTable)
    }

    /// Every key of the table is read from a file, and a flag's value and the key's are one
    /// setting: the flag wins.
    @Test(arguments: Setting.all)
    func everyKeyIsReadFromAFile(setting: Setting) throws {
        let (fileValue, flagValue): (String, String) = switch setting.kind {
        case .flag: ("true", "false")
        case .seconds: ("7", "9")
        case .paths: (#"["a", "b"]"#, #"["c"]"#)
        case .choice(.encoding): (#""windows-1252""#, #""utf-8""#)
        case .choice(.delimiter): (#"";""#, #""tab""#)
        case .choice(.primeContractStatus): (#""Draft""#, #""Approved""#)
        case .choice(.spectrumLayout): (#""change-order""#, #""change-request""#)
        case .choice(.longText): (#""reject""#, #""cut""#)
        default: (#""/x/one""#, #""/x/two""#)
        }
        func json(_ value: String) -> String {
            guard let table = setting.table else { return #"{"\#(setting.key)": \#(value)}"# }
            return #"{"\#(table)": {"\#(setting.name)": \#(value)}}"#
        }
        let fromFile = try BatchSettings.parse(JSONParser.parse(json(fileValue)), name: "c.json", base: ".")
        #expect(fromFile[setting] != nil, "\(setting.key) read from a file")
        let fromFlag = try BatchSettings.parse(JSONParser.parse(json(flagValue)), name: "c.json", base: ".")
        #expect(fromFlag.over(fromFile)[setting] == fromFlag[setting])
    }

    /// A bad value is refused in the same words from a flag and from a file.
    @Test func aFlagIsJudgedAsItsKeyIs() throws {
        var flags = BatchSettings()
        #expect(throws: OptionsError.self) { try flags.set(.delimiter, flag: "#") }
        #expect(throws: OptionsError.self) { try flags.set(.primeContractStatus, flag: "Signed") }
        #expect(throws: OptionsError.self) { try BatchSettings.parse(JSONParser.parse(##"{"delimiter": "#"}"##), name: "c.json", base: ".") }
        try flags.set(.primeContractStatus, flag: "out for bid")
        #expect(try flags.options().primeContractStatus == .outForBid)
        try flags.set(.delimiter, flag: "tab")
        #expect(try flags.options().delimiter == 0x09)
    }

    /// Each command's --help offers the flag of every setting the table gives it.
    @Test(arguments: ["sov-parse", "sov-validate", "sov-markup", "sov-emit", "sov-run", "sov-watch", "sov-push"])
    func everyCommandOffersItsFlags(command: String) throws {
        // sov-push's options are its default subcommand's.
        let help = try Executables.run(command, command == "sov-push" ? ["deliver", "--help"] : ["--help"])
        #expect(help.status == 0)
        for setting in Setting.all where setting.commands.contains(command) {
            guard let flag = setting.flag else { continue }
            #expect(help.stdoutText.contains("--\(flag)"), "\(command) --help lacks --\(flag)")
        }
    }

    /// sov-run takes what the stages take for a batch: the delimiter, the Procore markups of
    /// REST packages, the prime contract status and the Spectrum writing settings.
    @Test func sovRunTakesTheStagesOptions() throws {
        let folder = TemporaryFolder()
        let map = folder.write("map.csv", "company,job,customer,project_id,prime_contract_id\n1,24-1017,OWN100,101,\n")
        let csv = folder.write("in/contract.csv", """
            Company_Code;Job_Number;Customer_Code;Contract_Number;Job_Description;Price_Method_Code;Original_Contract;Billing_Item;Billing_Description;Item_Original_Contract
            1;24-1017;OWN100;PC-1;Clinic;F;100.00;01-000;Sitework;100.00

            """)
        let run = try Executables.run("sov-run", [
            "--delimiter", ";", "--prime-contract-status", "Draft", "--spectrum-layout", "change-order", "--cr-status", "AP",
            "--number-prefix", "P", "--company", "1", "--project-map", map, "--ledger", folder.file("l.sqlite"), "--out", folder.file("out"), csv,
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let units = folder.names("out").filter { $0.hasSuffix(".json") }
        #expect(units.count == 1)
        let body = try String(contentsOfFile: folder.file("out/" + (units.first ?? "")), encoding: .utf8)
        #expect(body.contains(#""status":"Draft""#))
    }
}

extension Setting: CustomTestStringConvertible {
    public var testDescription: String { key }
}

/// docs/FORMATS.md is the reference of every code: none may be missing from its table.
struct FormatsDocumentTests {
    @Test func everyDiagnosticCodeIsInTheRulesTable() throws {
        let text = try String(contentsOfFile: SettingsTableTests.root + "/docs/FORMATS.md", encoding: .utf8)
        let table = try #require(text.range(of: "## Rules and codes")).upperBound
        let section = text[table...]
        for code in DiagnosticCode.allCases {
            #expect(section.contains("| \(code.rawValue) |"), "\(code.rawValue) is missing from docs/FORMATS.md, \"Rules and codes\"")
        }
    }
}
