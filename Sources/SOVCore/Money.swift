/// An ISO 4217 currency and the number of decimals of its minor unit.
public struct Currency: Sendable, Hashable, CustomStringConvertible {
    public let code: String
    public let minorDigits: Int

    public init(code: String, minorDigits: Int) {
        precondition((0...6).contains(minorDigits))
        self.code = code
        self.minorDigits = minorDigits
    }

    public static let usd = Currency(code: "USD", minorDigits: 2)
    public static let cad = Currency(code: "CAD", minorDigits: 2)

    /// The currencies a canonical document may name.
    public static func named(_ code: String) -> Currency? {
        switch code.uppercased() {
        case "USD": .usd
        case "CAD": .cad
        default: nil
        }
    }

    public var description: String { code }

    /// 10^minorDigits.
    public var minorPerMajor: Int64 { pow10[minorDigits] }
}

/// Powers of ten that fit in Int64 (10^0 ... 10^18).
let pow10: [Int64] = (0...18).map { exponent in
    var value: Int64 = 1
    for _ in 0..<exponent { value *= 10 }
    return value
}

/// Which spellings the money parser accepts besides plain `-1234.56`.
public struct MoneyFormat: Sendable, Hashable {
    /// `1,234.56` (groups of three, comma-separated).
    public var allowsThousandsSeparators: Bool
    /// `(1234.56)` meaning -1234.56, as accounting reports print it.
    public var allowsParenthesesForNegative: Bool

    public init(allowsThousandsSeparators: Bool = false, allowsParenthesesForNegative: Bool = false) {
        self.allowsThousandsSeparators = allowsThousandsSeparators
        self.allowsParenthesesForNegative = allowsParenthesesForNegative
    }

    /// docs/FORMATS.md, "Layouts": `-1234.56`, at most the currency's decimals.
    public static let strict = MoneyFormat()
    /// A profile's lenient reading: `1,234.56` and `(1234.56)` too.
    public static let accounting = MoneyFormat(allowsThousandsSeparators: true, allowsParenthesesForNegative: true)
}

public enum MoneyParseError: Error, Sendable, Hashable, CustomStringConvertible {
    case empty
    case malformed(String)
    case tooManyDecimals(String, allowed: Int)
    case outOfRange(String)

    public var description: String {
        switch self {
        case .empty: "empty amount"
        case .malformed(let text): "'\(text)' is not an amount (expected digits with an optional sign and decimal point, e.g. -1234.56)"
        case .tooManyDecimals(let text, let allowed): "'\(text)' has more than \(allowed) decimals"
        case .outOfRange(let text): "'\(text)' is too large for an amount"
        }
    }
}

/// An exact amount of money: integer minor units (cents) of one currency.
public struct Money: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var minorUnits: Int64
    public var currency: Currency

    public init(minorUnits: Int64, currency: Currency = .usd) {
        self.minorUnits = minorUnits
        self.currency = currency
    }

    public static func zero(_ currency: Currency = .usd) -> Money { Money(minorUnits: 0, currency: currency) }

    public var isZero: Bool { minorUnits == 0 }
    public var isNegative: Bool { minorUnits < 0 }

    public static func < (lhs: Money, rhs: Money) -> Bool { lhs.minorUnits < rhs.minorUnits }

    /// Fixed-scale text with exactly the currency's decimals: "1250.00", "-0.05".
    public var description: String { Money.format(minorUnits, minorDigits: currency.minorDigits) }

    public static func format(_ minorUnits: Int64, minorDigits: Int) -> String {
        let magnitude = minorUnits.magnitude
        let divisor = UInt64(pow10[minorDigits])
        let whole = magnitude / divisor
        var text = minorUnits < 0 ? "-" : ""
        text += String(whole)
        if minorDigits > 0 {
            let fraction = String(magnitude % divisor)
            text += "."
            text += String(repeating: "0", count: minorDigits - fraction.count)
            text += fraction
        }
        return text
    }

    /// Parses `text` exactly under `format`. Leading and trailing spaces are an error here: callers
    /// trim where the source format pads (Spectrum codes), so that nothing is altered silently.
    public static func parse(_ text: some StringProtocol, currency: Currency = .usd, format: MoneyFormat = .strict) throws(MoneyParseError) -> Money {
        let units = try parseScaled(Substring(text), scale: currency.minorDigits, format: format)
        return Money(minorUnits: units, currency: currency)
    }

    /// `parse` of text given as its UTF-8 bytes; nil where `parse` throws (a caller that needs
    /// the error parses the text again as a String).
    public static func parse(utf8 bytes: UnsafeBufferPointer<UInt8>, currency: Currency = .usd, format: MoneyFormat = .strict) -> Money? {
        guard !bytes.isEmpty, case .value(let units) = scaledValue(bytes, scale: currency.minorDigits, format: format) else { return nil }
        return Money(minorUnits: units, currency: currency)
    }

    /// Parses a decimal of any scale (as Procore writes "299.0" or "299.000"), requiring that it
    /// be exact in the currency's minor unit: "12.3450" is fine, "12.345" is not.
    public static func parseExact(_ text: some StringProtocol, currency: Currency = .usd) throws(MoneyParseError) -> Money {
        let trimmed = droppingInsignificantZeros(Substring(text), keeping: currency.minorDigits)
        return try parse(trimmed, currency: currency)
    }

    public static func + (lhs: Money, rhs: Money) -> Money {
        precondition(lhs.currency == rhs.currency, "mixed currencies")
        return Money(minorUnits: lhs.minorUnits + rhs.minorUnits, currency: lhs.currency)
    }

    public static func - (lhs: Money, rhs: Money) -> Money {
        precondition(lhs.currency == rhs.currency, "mixed currencies")
        return Money(minorUnits: lhs.minorUnits - rhs.minorUnits, currency: lhs.currency)
    }

    public static func += (lhs: inout Money, rhs: Money) { lhs = lhs + rhs }
    public static func -= (lhs: inout Money, rhs: Money) { lhs = lhs - rhs }
    public static prefix func - (value: Money) -> Money { Money(minorUnits: -value.minorUnits, currency: value.currency) }

    /// Adds, or nil when the sum leaves Int64 (no amount Spectrum holds comes near that).
    public func adding(_ other: Money) -> Money? {
        let (sum, overflow) = minorUnits.addingReportingOverflow(other.minorUnits)
        return overflow ? nil : Money(minorUnits: sum, currency: currency)
    }

    /// `self × percent / 100`, rounded once with `mode`. Products are taken in Int128.
    public func applying(_ percent: Percent, _ mode: RoundingMode) -> Money {
        let product = Int128(minorUnits) * Int128(percent.millionths)
        let units = Rounding.divide(product, by: Int128(Percent.scale) * 100, mode)
        return Money(minorUnits: Int64(units), currency: currency)
    }

    /// Digits before the decimal point, for limits such as Spectrum's Revenue 10.2.
    public var integerDigitCount: Int {
        String(minorUnits.magnitude / UInt64(currency.minorPerMajor)).count
    }
}

/// Drops trailing fraction zeros past `keeping` decimals: they carry no value ("299.000").
/// Linear in the text: it walks UTF-8 bytes once (counting Characters from the point on each
/// step made "1000.<100,000 zeros>" take 35 s, issue 16).
func droppingInsignificantZeros(_ text: Substring, keeping decimals: Int) -> Substring {
    let utf8 = text.utf8
    guard let point = utf8.firstIndex(of: UInt8(ascii: ".")) else { return text }
    let keep = utf8.index(point, offsetBy: decimals + 1, limitedBy: utf8.endIndex) ?? utf8.endIndex
    var end = utf8.endIndex
    while end > keep {
        let before = utf8.index(before: end)
        guard utf8[before] == UInt8(ascii: "0") else { break }
        end = before
    }
    // `end` follows an ASCII byte, so it is a Character boundary of the text.
    return text[..<end]
}

/// Strict fixed-point parser shared by Money and Percent: sign, digits, optional point and at most
/// `scale` decimals; returns the value × 10^scale. Overflow is an error, never a wrap.
/// Reads the UTF-8 bytes in place: no copy of the text, and a String only for an error.
func parseScaled(_ text: Substring, scale: Int, format: MoneyFormat) throws(MoneyParseError) -> Int64 {
    if text.isEmpty { throw .empty }
    var text = text
    let result = text.withUTF8 { scaledValue($0, scale: scale, format: format) }
    switch result {
    case .value(let value): return value
    case .malformed: throw .malformed(String(text))
    case .tooManyDecimals: throw .tooManyDecimals(String(text), allowed: scale)
    case .outOfRange: throw .outOfRange(String(text))
    }
}

/// The value of the plainest spelling, which every format accepts alike: `-`, digits, and a
/// point with 1...`scale` digits after it, with few enough digits that nothing can overflow.
/// Nil for anything else, which `scaledValue` reads whole (and finds what is wrong with it).
@inline(__always)
private func plainScaledValue(_ bytes: UnsafeBufferPointer<UInt8>, scale: Int) -> Int64? {
    let count = bytes.count
    var index = 0
    let negative = count > 0 && bytes[0] == UInt8(ascii: "-")
    if negative { index = 1 }
    let wholeStart = index
    var whole: Int64 = 0
    while index < count {
        let digit = bytes[index] &- UInt8(ascii: "0")
        guard digit < 10 else { break }
        whole = whole &* 10 &+ Int64(digit)
        index += 1
    }
    // Under 10^18 in all: no product or sum below can overflow.
    guard index > wholeStart, index - wholeStart + scale <= 18 else { return nil }
    var scaled = whole
    var digits = 0
    if index < count {
        guard bytes[index] == UInt8(ascii: "."), count - index - 1 >= 1, count - index - 1 <= scale else { return nil }
        index += 1
        while index < count {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            scaled = scaled &* 10 &+ Int64(digit)
            digits += 1
            index += 1
        }
    }
    while digits < scale {
        scaled = scaled &* 10
        digits += 1
    }
    return negative ? -scaled : scaled
}

private enum ScaledValue {
    case value(Int64)
    case malformed, tooManyDecimals, outOfRange
}

/// The grammar of `parseScaled`, over bytes; the first fault met, in reading order, is the answer.
private func scaledValue(_ all: UnsafeBufferPointer<UInt8>, scale: Int, format: MoneyFormat) -> ScaledValue {
    if let value = plainScaledValue(all, scale: scale) { return .value(value) }
    var start = 0
    var end = all.count
    var negative = false
    if format.allowsParenthesesForNegative, all[0] == UInt8(ascii: "("), all[end - 1] == UInt8(ascii: ")") {
        negative = true
        start += 1
        end -= 1
    }
    if start < end, all[start] == UInt8(ascii: "-") || all[start] == UInt8(ascii: "+") {
        if negative { return .malformed }
        negative = all[start] == UInt8(ascii: "-")
        start += 1
    }
    var whole: Int64 = 0
    var fraction: Int64 = 0
    var fractionDigits = 0
    var wholeDigits = 0
    var seenPoint = false
    var digitsSinceSeparator = -1  // -1: no separator seen yet
    var sawSeparator = false
    var index = start
    while index < end {
        let byte = all[index]
        index += 1
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            let digit = Int64(byte - UInt8(ascii: "0"))
            if seenPoint {
                fractionDigits += 1
                if fractionDigits > scale { return .tooManyDecimals }
                fraction = fraction * 10 + digit
            } else {
                wholeDigits += 1
                if digitsSinceSeparator >= 0 { digitsSinceSeparator += 1 }
                let (times10, o1) = whole.multipliedReportingOverflow(by: 10)
                let (next, o2) = times10.addingReportingOverflow(digit)
                if o1 || o2 { return .outOfRange }
                whole = next
            }
        case UInt8(ascii: ","):
            guard format.allowsThousandsSeparators, !seenPoint, wholeDigits > 0,
                (digitsSinceSeparator == -1 && wholeDigits <= 3) || digitsSinceSeparator == 3
            else { return .malformed }
            sawSeparator = true
            digitsSinceSeparator = 0
        case UInt8(ascii: "."):
            if seenPoint { return .malformed }
            if sawSeparator && digitsSinceSeparator != 3 { return .malformed }
            seenPoint = true
        default:
            return .malformed
        }
    }
    if sawSeparator && !seenPoint && digitsSinceSeparator != 3 { return .malformed }
    // "-", ".", "-." and "5." are not amounts; ".5" is not either (Spectrum always writes a 0).
    if wholeDigits == 0 || (seenPoint && fractionDigits == 0) { return .malformed }
    let (scaledWhole, o1) = whole.multipliedReportingOverflow(by: pow10[scale])
    let (magnitude, o2) = scaledWhole.addingReportingOverflow(fraction * pow10[scale - fractionDigits])
    if o1 || o2 { return .outOfRange }
    return .value(negative ? -magnitude : magnitude)
}
