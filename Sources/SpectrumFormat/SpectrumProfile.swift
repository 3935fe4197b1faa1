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
///
/// date_formats = ["MM/DD/YYYY", "M/D/YYYY"]    # default MM/DD/YYYY, YYYY-MM-DD, YYYYMMDD
/// currency_symbols = ["$"]                     # $98,500.00 (default: none)
/// ```
/// `delimiter = "auto"` (or `--delimiter auto`) takes `;`, tab or `|` when the header line holds
/// no comma and exactly one of them.
/// Unknown keys are errors, so that a typo is not silently ignored.
public struct SpectrumProfile: Sendable {
    /// Their field name (trimmed, lowercased) -> the field it stands for.
    public var renames: [String: SpectrumField]
    /// Change order status codes that mean approved (CO003, docs/FORMATS.md, "Rules and codes"), compared ignoring case.
    public var approvedStatusCodes: [String]
    public var money: MoneyFormat
    public var encoding: TextEncoding?
    public var delimiter: UInt8?
    /// `delimiter = "auto"`: sniffed from each CSV's header line.
    public var sniffsDelimiter = false
    /// The date spellings accepted, each validated exactly; never guessed per value.
    public var dateFormats: [SpectrumDateFormat] = SpectrumDateFormat.standard
    /// Currency symbols an amount may carry (`$98,500.00`); none by default.
    public var currencySymbols: [String] = []

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
                if member.value.stringValue == "auto" {
                    sniffsDelimiter = true
                    continue
                }
                guard let name = member.value.stringValue, let value = SpectrumProfile.delimiter(named: name) else {
                    throw problem(member.key, "delimiter must be \",\", \";\", \"tab\", \"|\" or \"auto\"")
                }
                delimiter = value
            case "date_formats":
                guard let names = member.value.arrayValue?.compactMap(\.stringValue), names.count == member.value.arrayValue?.count, !names.isEmpty else {
                    throw problem(member.key, "date_formats must be a list such as [\"MM/DD/YYYY\", \"M/D/YYYY\"]")
                }
                var formats: [SpectrumDateFormat] = []
                for name in names {
                    guard let format = SpectrumDateFormat(rawValue: name) else {
                        throw problem(member.key, "unknown date format '\(name)'; known: \(SpectrumDateFormat.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    if !formats.contains(format) { formats.append(format) }
                }
                dateFormats = formats
            case "currency_symbols":
                guard let symbols = member.value.arrayValue?.compactMap(\.stringValue), symbols.count == member.value.arrayValue?.count,
                    symbols.allSatisfy({ !$0.isEmpty && !$0.contains(where: { $0.isNumber || $0 == "-" || $0 == "." || $0 == "," || $0 == "(" }) })
                else {
                    throw problem(member.key, "currency_symbols must be a list of symbols such as [\"$\"]")
                }
                currencySymbols = symbols
            default:
                throw problem(member.key, "unknown setting '\(member.key)' (description, fields, approved_status_codes, money, encoding, delimiter, date_formats, currency_symbols)")
            }
        }
    }
}

/// A date spelling a profile may accept. Each is read exactly (digits, separators, a real
/// calendar date); when a value reads as two different dates under the formats a profile
/// accepts (3/4/2024 under M/D/YYYY and D/M/YYYY), it is refused with both readings named.
public enum SpectrumDateFormat: String, Sendable, CaseIterable, Hashable {
    case monthDayYear = "MM/DD/YYYY"
    case looseMonthDayYear = "M/D/YYYY"
    case dayMonthYear = "DD/MM/YYYY"
    case looseDayMonthYear = "D/M/YYYY"
    case iso = "YYYY-MM-DD"
    case compact = "YYYYMMDD"

    /// docs/FORMATS.md, "Profiles": what Spectrum writes, and the two unambiguous machine spellings.
    public static let standard: [SpectrumDateFormat] = [.monthDayYear, .iso, .compact]

    public func parse(_ text: String) -> CalendarDate? {
        let bytes = Array(text.utf8)
        func number(_ slice: ArraySlice<UInt8>) -> Int? {
            guard !slice.isEmpty else { return nil }
            var value = 0
            for byte in slice {
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        func slashed(padded: Bool, monthFirst: Bool) -> CalendarDate? {
            let parts = bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
            guard parts.count == 3, parts[2].count == 4 else { return nil }
            let first = parts[0], second = parts[1]
            if padded {
                guard first.count == 2, second.count == 2 else { return nil }
            } else {
                guard (1...2).contains(first.count), (1...2).contains(second.count) else { return nil }
            }
            guard let a = number(first), let b = number(second), let year = number(parts[2]) else { return nil }
            return monthFirst ? CalendarDate(year: year, month: a, day: b) : CalendarDate(year: year, month: b, day: a)
        }
        switch self {
        case .monthDayYear: return slashed(padded: true, monthFirst: true)
        case .looseMonthDayYear: return slashed(padded: false, monthFirst: true)
        case .dayMonthYear: return slashed(padded: true, monthFirst: false)
        case .looseDayMonthYear: return slashed(padded: false, monthFirst: false)
        case .iso:
            guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
                let year = number(bytes[0..<4]), let month = number(bytes[5..<7]), let day = number(bytes[8..<10])
            else { return nil }
            return CalendarDate(year: year, month: month, day: day)
        case .compact:
            guard bytes.count == 8, let year = number(bytes[0..<4]), let month = number(bytes[4..<6]), let day = number(bytes[6..<8]) else { return nil }
            return CalendarDate(year: year, month: month, day: day)
        }
    }

    /// What a value means under these formats: one date, none, or several (ambiguous).
    public static func read(_ text: String, formats: [SpectrumDateFormat]) -> [(format: SpectrumDateFormat, date: CalendarDate)] {
        var readings: [(format: SpectrumDateFormat, date: CalendarDate)] = []
        for format in formats {
            guard let date = format.parse(text), !readings.contains(where: { $0.date == date }) else { continue }
            readings.append((format, date))
        }
        return readings
    }
}
