import SOVCore

/// Every problem found in one Procore document. Shared by all the readers of that document so a
/// rejected document lists all its problems, not only the first (docs/FORMATS.md, "Rules and codes").
final class DocumentProblems {
    private(set) var diagnostics: [Diagnostic] = []

    var isEmpty: Bool { diagnostics.isEmpty }

    func add(_ code: DiagnosticCode, _ message: String, at location: SourceLocation, value: String? = nil) {
        diagnostics.append(.error(code, message, at: location, value: value))
    }
}

/// Typed, forgiving-of-nothing access to one object of a Procore JSON document. Each read returns
/// nil on absence or on a problem; problems go to `problems` with the field's path. Null and ""
/// count as absent: Procore writes both for a field with no value.
struct ProcoreObject {
    let value: JSONValue
    let path: String
    let location: SourceLocation
    let problems: DocumentProblems

    func fieldPath(_ key: String) -> String {
        if key.isEmpty { return path }
        return path.isEmpty ? key : "\(path).\(key)"
    }

    private func at(_ key: String) -> SourceLocation {
        let field = fieldPath(key)
        return location.with(field: field.isEmpty ? nil : field)
    }

    func problem(_ key: String, _ code: DiagnosticCode, _ message: String, value: String? = nil) {
        problems.add(code, message, at: at(key), value: value)
    }

    /// The member's value, nil when absent, null or an empty string.
    func raw(_ key: String) -> JSONValue? {
        switch value[key] {
        case nil, .null?, .string("")?: return nil
        case let member?: return member
        }
    }

    func has(_ key: String) -> Bool { raw(key) != nil }

    func object(_ key: String) -> ProcoreObject? {
        guard let member = raw(key) else { return nil }
        guard member.members != nil else {
            problem(key, .FMT010, "\"\(fieldPath(key))\" must be an object", value: member.text)
            return nil
        }
        return ProcoreObject(value: member, path: fieldPath(key), location: location, problems: problems)
    }

    /// The objects of an array member; an element that is not an object is a problem and skipped.
    func objects(_ key: String) -> [ProcoreObject]? {
        guard let member = raw(key) else { return nil }
        guard let elements = member.arrayValue else {
            problem(key, .FMT010, "\"\(fieldPath(key))\" must be an array", value: member.text)
            return nil
        }
        var result: [ProcoreObject] = []
        for (index, element) in elements.enumerated() {
            let elementPath = "\(fieldPath(key))[\(index)]"
            guard element.members != nil else {
                problems.add(.FMT010, "\"\(elementPath)\" must be an object", at: location.with(field: elementPath), value: element.text)
                continue
            }
            result.append(ProcoreObject(value: element, path: elementPath, location: location, problems: problems))
        }
        return result
    }

    /// A text member: a JSON string only.
    func text(_ key: String) -> String? {
        guard let member = raw(key) else { return nil }
        guard let text = member.stringValue else {
            problem(key, .FMT010, "\"\(fieldPath(key))\" must be a string", value: member.text)
            return nil
        }
        return text
    }

    /// A code or number that exports write either as a string or as a JSON number ("7" or 7).
    func code(_ key: String) -> String? {
        guard let member = raw(key) else { return nil }
        guard let text = member.scalarText else {
            problem(key, .FMT010, "\"\(fieldPath(key))\" must be a string or a number", value: member.text)
            return nil
        }
        return text
    }

    /// A Procore id: digits, written as a number or a string. Kept as text (identifiers, not quantities).
    func id(_ key: String) -> String? {
        guard let text = code(key) else { return nil }
        guard text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            problem(key, .FMT006, "\"\(fieldPath(key))\" must be a Procore id (digits)", value: text)
            return nil
        }
        return text
    }

    /// An amount of any scale ("299.0", 299, "299.000"), read from its text, never through a
    /// binary float; it must be exact to the cent.
    func money(_ key: String, _ currency: Currency) -> Money? {
        guard let text = code(key) else { return nil }
        do {
            return try Money.parseExact(ProcoreNumberText.plain(text) ?? text, currency: currency)
        } catch {
            problem(key, .FMT001, "\"\(fieldPath(key))\": \(error.description)", value: text)
            return nil
        }
    }

    func percent(_ key: String) -> Percent? {
        guard let text = code(key) else { return nil }
        do {
            return try Percent.parse(text)
        } catch {
            problem(key, .FMT002, "\"\(fieldPath(key))\": \(error.description)", value: text)
            return nil
        }
    }

    func int(_ key: String) -> Int? {
        guard let text = code(key) else { return nil }
        guard let number = Int(text) else {
            problem(key, .FMT006, "\"\(fieldPath(key))\" must be a whole number", value: text)
            return nil
        }
        return number
    }

    func bool(_ key: String) -> Bool? {
        guard let member = raw(key) else { return nil }
        guard let flag = member.boolValue else {
            problem(key, .FMT010, "\"\(fieldPath(key))\" must be true or false", value: member.text)
            return nil
        }
        return flag
    }

    /// A Procore date: `YYYY-MM-DD`, or an ISO 8601 timestamp whose date part is taken as written
    /// (`2025-03-14T17:05:00-07:00` is 2025-03-14): Procore writes timestamps in the project's
    /// time zone, and converting to UTC would move late-evening approvals to the next day.
    func date(_ key: String) -> CalendarDate? {
        guard let text = text(key) else { return nil }
        guard let date = ProcoreDate.parse(text) else {
            problem(key, .FMT003, "\"\(fieldPath(key))\" is not a date (YYYY-MM-DD or an ISO 8601 timestamp)", value: text)
            return nil
        }
        return date
    }

    func requireText(_ key: String, _ what: String) -> String? {
        if let text = code(key) { return text }
        if !has(key) { problem(key, .FMT004, "missing \(what) (\"\(fieldPath(key))\")") }
        return nil
    }
}

enum ProcoreDate {
    static func parse(_ text: String) -> CalendarDate? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return nil }
        if bytes.count > 10 {
            // A timestamp: the date part, then 'T' (or a space, as some exports write) and a time.
            guard bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: " "), bytes.count >= 16,
                bytes[13] == UInt8(ascii: ":")
            else { return nil }
        }
        return CalendarDate.parse(String(decoding: bytes[0..<10], as: UTF8.self))
    }
}

/// Procore status values are snake_case tokens (`approved`, `not_pricing`); exports and humans
/// also write "Approved" or "Not Pricing". The canonical status is the token.
enum ProcoreStatus {
    static func normalised(_ text: String) -> String {
        String(text.trimmingSpaces.lowercased().map { $0 == " " || $0 == "-" ? "_" : $0 })
    }
}

/// The currency of a Procore document: `currency_configuration.currency_iso_code` when given
/// (multi-currency projects), else US dollars.
enum ProcoreCurrency {
    static func of(_ object: ProcoreObject) -> Currency {
        guard let code = object.object("currency_configuration")?.text("currency_iso_code") else { return .usd }
        guard let currency = Currency.named(code) else {
            object.problem("currency_configuration.currency_iso_code", .FMT010, "unsupported currency", value: code)
            return .usd
        }
        return currency
    }
}

/// JSON may write a number with an exponent (`3.969e3`); Procore amounts are read from their
/// text, so the decimal point is moved in the text, exactly, never through a binary float.
enum ProcoreNumberText {
    /// An exponent further out than this cannot be an amount; such text is left to fail as it is.
    static let maximumExponent = 40

    /// `3.969e3` -> `3969`, `-125E-2` -> `-1.25`; nil when `text` has no exponent or is not a
    /// JSON number.
    static func plain(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        guard let e = bytes.firstIndex(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) else { return nil }
        var mantissa = bytes[..<e]
        var exponentText = bytes[(e + 1)...]
        var negative = false
        if mantissa.first == UInt8(ascii: "-") {
            negative = true
            mantissa = mantissa.dropFirst()
        }
        let parts = mantissa.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = parts.first, !whole.isEmpty else { return nil }
        let fraction = parts.count == 2 ? parts[1] : []
        guard parts.count == 1 || !fraction.isEmpty, (whole + fraction).allSatisfy(isDigit) else { return nil }
        var exponentNegative = false
        if let sign = exponentText.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            exponentNegative = sign == UInt8(ascii: "-")
            exponentText = exponentText.dropFirst()
        }
        guard !exponentText.isEmpty, exponentText.count <= 3, exponentText.allSatisfy(isDigit),
              let magnitude = Int(String(decoding: exponentText, as: UTF8.self)), magnitude <= maximumExponent
        else { return nil }
        let digits = Array(whole + fraction)
        // Where the decimal point falls within `digits`, padded with zeros on either side.
        let point = whole.count + (exponentNegative ? -magnitude : magnitude)
        var integer: [UInt8]
        var decimals: [UInt8]
        if point <= 0 {
            integer = [UInt8(ascii: "0")]
            decimals = Array(repeating: UInt8(ascii: "0"), count: -point) + digits
        } else if point >= digits.count {
            integer = digits + Array(repeating: UInt8(ascii: "0"), count: point - digits.count)
            decimals = []
        } else {
            integer = Array(digits[..<point])
            decimals = Array(digits[point...])
        }
        while integer.count > 1 && integer.first == UInt8(ascii: "0") { integer.removeFirst() }
        var result = (negative ? "-" : "") + String(decoding: integer, as: UTF8.self)
        if !decimals.isEmpty { result += "." + String(decoding: decimals, as: UTF8.self) }
        return result
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
}
