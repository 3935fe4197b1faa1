import SOVCore

/// A site's description of its Spectrum exports (`--profile FILE`, TOML or JSON):
///
/// ```toml
/// description = "Info-Link views at Acme"      # optional, for people
/// approved_status_codes = ["A", "AP"]          # change order status codes that mean approved (default ["A"])
/// encoding = "windows-1252"                    # CSV text encoding (default utf-8)
/// delimiter = ";"                              # CSV delimiter: "," ";" "tab" "|" (default ",")
///
/// [fields]                                     # their column name = the Spectrum name SOVBridge knows
/// "Job_No" = "Job_Number"
/// "Contract_Amt" = "Original_Contract"
///
/// [money]                                      # spellings accepted besides -1234.56
/// thousands_separators = true                  # 1,234.56
/// parentheses = true                           # (1234.56) = -1234.56
/// ```
/// Unknown keys are errors, so that a typo is not silently ignored.
public struct SpectrumProfile: Sendable {
    /// Their field name (trimmed, lowercased) -> the field it stands for.
    public var renames: [String: SpectrumField]
    /// Change order status codes that mean approved (SPEC §6 CO003), compared ignoring case.
    public var approvedStatusCodes: [String]
    public var money: MoneyFormat
    public var encoding: TextEncoding?
    public var delimiter: UInt8?

    public init(renames: [String: SpectrumField] = [:], approvedStatusCodes: [String] = ["A"], money: MoneyFormat = .strict, encoding: TextEncoding? = nil, delimiter: UInt8? = nil) {
        self.renames = Dictionary(renames.map { (trimmedSpaces($0.key).lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first })
        self.approvedStatusCodes = approvedStatusCodes
        self.money = money
        self.encoding = encoding
        self.delimiter = delimiter
    }

    public static let standard = SpectrumProfile()

    /// The field a name in an export stands for: the profile's renaming first, then Spectrum's own names.
    public func field(named name: String) -> SpectrumField? {
        if !renames.isEmpty, let renamed = renames[trimmedSpaces(name).lowercased()] { return renamed }
        return SpectrumField.named(name)
    }

    public func isApproved(_ status: String?) -> Bool {
        guard let status else { return false }
        let code = trimmedSpaces(status).uppercased()
        return approvedStatusCodes.contains { trimmedSpaces($0).uppercased() == code }
    }

    /// `,` `;` `|` and tab (also spelled `tab` or `\t`).
    public static func delimiter(named name: String) -> UInt8? {
        switch name {
        case ",", ";", "|": name.utf8.first
        case "\t", "tab", "TAB", "\\t": 0x09
        default: nil
        }
    }

    public static func load(_ path: String) throws(Diagnostic) -> SpectrumProfile {
        try SpectrumProfile(json: try ConfigFile.load(path), file: path)
    }

    public init(json: JSONValue, file: String) throws(Diagnostic) {
        func problem(_ key: String, _ message: String) -> Diagnostic {
            .error(.FMT010, "profile: \(message)", at: SourceLocation(file: file, field: key))
        }
        guard let members = json.members else { throw problem("", "a profile must be a table of settings") }
        self.init()
        for member in members {
            switch member.key {
            case "description":
                guard member.value.stringValue != nil else { throw problem(member.key, "description must be text") }
            case "fields":
                guard let pairs = member.value.members else {
                    throw problem("fields", "fields must be a table of \"Their_Name\" = \"Spectrum_Name\"")
                }
                for pair in pairs {
                    guard let target = pair.value.stringValue else {
                        throw problem("fields.\(pair.key)", "the new name of \(pair.key) must be text")
                    }
                    guard let field = SpectrumField.named(target) else {
                        throw problem("fields.\(pair.key)", "'\(target)' is not a field SOVBridge knows; known fields: \(SpectrumField.allCases.map(\.name).joined(separator: ", "))")
                    }
                    renames[trimmedSpaces(pair.key).lowercased()] = field
                }
            case "approved_status_codes":
                guard let codes = member.value.arrayValue?.compactMap(\.stringValue), codes.count == member.value.arrayValue?.count else {
                    throw problem(member.key, "approved_status_codes must be a list of codes, e.g. [\"A\"]")
                }
                approvedStatusCodes = codes
            case "money":
                guard let options = member.value.members else { throw problem("money", "money must be a table") }
                for option in options {
                    guard let flag = option.value.boolValue else { throw problem("money.\(option.key)", "\(option.key) must be true or false") }
                    switch option.key {
                    case "thousands_separators": money.allowsThousandsSeparators = flag
                    case "parentheses": money.allowsParenthesesForNegative = flag
                    default: throw problem("money.\(option.key)", "unknown money setting '\(option.key)' (thousands_separators, parentheses)")
                    }
                }
            case "encoding":
                guard let name = member.value.stringValue, let value = TextEncoding(name: name) else {
                    throw problem(member.key, "encoding must be \"utf-8\" or \"windows-1252\"")
                }
                encoding = value
            case "delimiter":
                guard let name = member.value.stringValue, let value = SpectrumProfile.delimiter(named: name) else {
                    throw problem(member.key, "delimiter must be \",\", \";\", \"tab\" or \"|\"")
                }
                delimiter = value
            default:
                throw problem(member.key, "unknown setting '\(member.key)' (description, fields, approved_status_codes, money, encoding, delimiter)")
            }
        }
    }
}
