public enum Severity: String, Sendable, Hashable {
    case error
    case warning
}

/// Where a problem was found. Every field is optional because not every source has lines
/// (JSON documents) or fields (a whole-file failure).
public struct SourceLocation: Sendable, Hashable {
    public var file: String?
    public var line: Int?
    /// 1-based record number within the file, where lines are not meaningful.
    public var record: Int?
    public var field: String?

    public init(file: String? = nil, line: Int? = nil, record: Int? = nil, field: String? = nil) {
        self.file = file
        self.line = line
        self.record = record
        self.field = field
    }

    public func with(field: String?) -> SourceLocation {
        var copy = self
        copy.field = field
        return copy
    }
}

/// A problem in data: a value, never a thrown error, so a stage can report every problem of a
/// document and go on with the batch.
public struct Diagnostic: Sendable, Hashable, Error {
    public var code: DiagnosticCode
    public var severity: Severity
    public var message: String
    public var location: SourceLocation
    /// The raw value at fault, exactly as found.
    public var value: String?

    public init(_ code: DiagnosticCode, _ severity: Severity = .error, _ message: String, at location: SourceLocation = SourceLocation(), value: String? = nil) {
        self.code = code
        self.severity = severity
        self.message = message
        self.location = location
        self.value = value
    }

    public static func error(_ code: DiagnosticCode, _ message: String, at location: SourceLocation = SourceLocation(), value: String? = nil) -> Diagnostic {
        Diagnostic(code, .error, message, at: location, value: value)
    }

    public static func warning(_ code: DiagnosticCode, _ message: String, at location: SourceLocation = SourceLocation(), value: String? = nil) -> Diagnostic {
        Diagnostic(code, .warning, message, at: location, value: value)
    }

    public var isError: Bool { severity == .error }

    /// `file:line: error: [CODE] message` (swiftc and SwiftPM style, so editors can jump to it).
    /// Messages quote the values they are about; a hostile value is made harmless here: cut when
    /// megabytes long, and its line breaks and control characters escaped, so that it stays on
    /// its one line and cannot forge others on stderr. `json` keeps it whole and as it was.
    public var humanLine: String {
        var prefix = location.file ?? "<input>"
        if let line = location.line { prefix += ":\(line)" } else if let record = location.record { prefix += ":record \(record)" }
        // A problem of the run rather than of any input (a setting missing) names no place.
        let place = location.file == nil && location.line == nil && location.record == nil ? "" : "\(Diagnostic.printable(prefix)): "
        var text = "\(place)\(severity.rawValue): [\(code.rawValue)] \(Diagnostic.printable(Diagnostic.shortened(message, head: 600, tail: 400)))"
        let quoted = value.map { Diagnostic.printable(Diagnostic.shortened($0, head: 100, tail: 20)) }
        if let field = location.field { text += " (field \(Diagnostic.printable(field))" + (quoted.map { ", value '\($0)'" } ?? "") + ")" } else if let quoted { text += " (value '\(quoted)')" }
        return text
    }

    /// `text` with control characters written as escapes (`\n`, `\u{1B}`).
    static func printable(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { return text }
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\u{0}"..."\u{1F}", "\u{7F}": result += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// `text` when short; else its first `head` and last `tail` characters around a note of
    /// how much was left out.
    static func shortened(_ text: String, head: Int, tail: Int) -> String {
        // Short text (the usual case) is let through without counting its characters.
        guard text.utf8.count > head + tail + 40 else { return text }
        let dropped = text.count - head - tail
        guard dropped > 40 else { return text }
        return "\(text.prefix(head))[... \(dropped) characters left out ...]\(text.suffix(tail))"
    }

    public var json: JSONValue {
        var object: [JSONMember] = [
            JSONMember("code", .string(code.rawValue)),
            JSONMember("severity", .string(severity.rawValue)),
            JSONMember("message", .string(message)),
            JSONMember("file", .optional(location.file)),
            JSONMember("line", location.line.map(JSONValue.int) ?? .null),
        ]
        if let record = location.record { object.append(JSONMember("record", .int(record))) }
        object.append(JSONMember("field", .optional(location.field)))
        object.append(JSONMember("value", .optional(value)))
        return .object(object)
    }

    public init?(json: JSONValue) {
        // A code this build does not know is not a diagnostic it can act on.
        guard let code = json["code"]?.stringValue.flatMap(DiagnosticCode.init(rawValue:)), let message = json["message"]?.stringValue else { return nil }
        self.code = code
        self.severity = Severity(rawValue: json["severity"]?.stringValue ?? "error") ?? .error
        self.message = message
        self.location = SourceLocation(
            file: json["file"]?.stringValue, line: json["line"]?.intValue,
            record: json["record"]?.intValue, field: json["field"]?.stringValue)
        self.value = json["value"]?.stringValue
    }
}

/// Every stable code a stage can report (docs/FORMATS.md, "Rules and codes"). The raw value is what users grep for.
public enum DiagnosticCode: String, Sendable, CaseIterable, Comparable {
    public static func < (a: DiagnosticCode, b: DiagnosticCode) -> Bool { a.rawValue < b.rawValue }

    case PC001, PC002, PC003, PC004
    case MAP001, MAP002, MAP003
    /// Information, never an error: a Procore change order's Spectrum contract was taken from
    /// the project map. Its own code so that MAP003 always means a rejection.
    case MAP004
    case CO001, CO002, CO003, CO004, CO005
    case MKP001, MKP002
    /// Held, not rejected: the document waits for what it depends on (a change order for its
    /// prime contract) and is looked at again by the next run.
    case DEP001
    /// Malformed money amount.
    case FMT001
    /// Malformed percentage.
    case FMT002
    /// Malformed or impossible date.
    case FMT003
    /// Required field missing or blank.
    case FMT004
    /// Text longer than the target system allows.
    case FMT005
    /// Malformed whole number.
    case FMT006
    /// Record shape: CSV field count, quoting, non-simple XML record.
    case FMT007
    /// Text encoding: invalid UTF-8, undefined Windows-1252 byte, characters XML forbids.
    case FMT008
    /// Canonical document malformed or of an unknown schema version.
    case FMT009
    /// JSON value of the wrong type or shape.
    case FMT010
    /// A source system reported an error row (Spectrum Data Exchange Error_Code).
    case SRC001
    /// A source system reported a warning row.
    case SRC002
    /// Spectrum writer: amounts do not reconcile with the computed totals.
    case REC001
    /// Input or output that could not be read or written.
    case IO001

    public var summary: String {
        switch self {
        case .PC001: "one prime contract per Procore project"
        case .PC002: "unit price contracts are not supported"
        case .PC003: "SOV lines must add up to the original contract amount"
        case .PC004: "billing item code missing, longer than 10, or repeated"
        case .MAP001: "no Procore project mapped for the Spectrum job"
        case .MAP002: "prime contract id not in the project map"
        case .MAP003: "Spectrum company, job and customer unknown for a Procore change order"
        case .MAP004: "Spectrum contract of a Procore change order taken from the project map (warning)"
        case .CO001: "change order date is required"
        case .CO002: "billing item code on a change order line longer than 10"
        case .CO003: "change order status must be Approved"
        case .CO004: "every line must designate an associated prime contract line item"
        case .CO005: "Spectrum field limits"
        case .MKP001: "Procore's markup amounts disagree with the computed ones"
        case .MKP002: "unsupported markup calculation"
        case .DEP001: "held until its prime contract is known"
        case .FMT001: "malformed amount"
        case .FMT002: "malformed percentage"
        case .FMT003: "malformed date"
        case .FMT004: "required field missing"
        case .FMT005: "text too long"
        case .FMT006: "malformed whole number"
        case .FMT007: "malformed record"
        case .FMT008: "invalid text encoding"
        case .FMT009: "malformed canonical document"
        case .FMT010: "JSON value of the wrong type"
        case .SRC001: "error row in a Spectrum export"
        case .SRC002: "warning row in a Spectrum export"
        case .REC001: "amounts do not reconcile"
        case .IO001: "input or output failure"
        }
    }
}
