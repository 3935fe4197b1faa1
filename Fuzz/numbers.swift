import SOVCore

/// Money, Percent and CalendarDate parsers on arbitrary text. Besides not crashing: what parses
/// formats back to text that parses to the same value; the strict money parser agrees with a
/// plain reference reading of `[+-]digits[.d{1,2}]`; the lenient one accepts all the strict one
/// does, with the same value; dates survive both of their spellings.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNumbers(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    checkMoney(text)
    checkPercent(text)
    checkDate(text)
    return 0
}

private func checkMoney(_ text: String) {
    let strict = try? Money.parse(text)
    let accounting = try? Money.parse(text, format: .accounting)
    let reference = referenceMinorUnits(text)
    switch reference {
    case .value(let units):
        guard let strict, Int128(strict.minorUnits) == units else { fatalError("Money.parse('\(text)') = \(String(describing: strict)), reference \(units)") }
    case .outOfRange:
        guard strict == nil else { fatalError("Money.parse('\(text)') accepted an amount out of range: \(strict!)") }
    case .malformed:
        guard strict == nil else { fatalError("Money.parse('\(text)') accepted malformed text as \(strict!)") }
    }
    if let strict {
        guard accounting == strict else { fatalError("the accounting format reads '\(text)' differently: \(String(describing: accounting))") }
        // Text the money parser accepts, written back with exactly two decimals, reads the same.
        guard (try? Money.parse(strict.description)) == strict else { fatalError("'\(strict.description)' does not read back") }
        guard (try? Money.parseExact(text)) == strict else { fatalError("Money.parseExact('\(text)') differs from Money.parse") }
    }
    if let accounting {
        guard (try? Money.parse(accounting.description)) == accounting else { fatalError("'\(accounting.description)' does not read back") }
    }
    if let exact = try? Money.parseExact(text) {
        guard (try? Money.parse(exact.description)) == exact else { fatalError("'\(exact.description)' does not read back") }
        // Any scale, but exact: the text's value is exactly the cents found.
        guard case .value(let units) = referenceExact(text), units == Int128(exact.minorUnits) else {
            fatalError("Money.parseExact('\(text)') = \(exact), not the text's exact value")
        }
    }
}

private enum Reference: Equatable {
    case value(Int128)
    case outOfRange
    case malformed
}

/// `[+-]?[0-9]+(\.[0-9]{1,2})?` in cents, read the long way; Int64's range is the limit.
private func referenceMinorUnits(_ text: String) -> Reference {
    let bytes = Array(text.utf8)
    var index = 0
    var negative = false
    if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
        negative = bytes[index] == UInt8(ascii: "-")
        index += 1
    }
    var whole: [UInt8] = []
    while index < bytes.count, isDigit(bytes[index]) { whole.append(bytes[index]); index += 1 }
    guard !whole.isEmpty else { return .malformed }
    var fraction: [UInt8] = []
    if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
        index += 1
        while index < bytes.count, isDigit(bytes[index]) { fraction.append(bytes[index]); index += 1 }
        guard (1...2).contains(fraction.count) else { return .malformed }
    }
    guard index == bytes.count else { return .malformed }
    while fraction.count < 2 { fraction.append(UInt8(ascii: "0")) }
    return scaled(whole + fraction, negative: negative)
}

/// Any number of decimals, as long as the digits past the second are zeros.
private func referenceExact(_ text: String) -> Reference {
    let bytes = Array(text.utf8)
    guard let point = bytes.firstIndex(of: UInt8(ascii: ".")) else { return referenceMinorUnits(text) }
    var end = bytes.count
    while end > point + 3, bytes[end - 1] == UInt8(ascii: "0") { end -= 1 }
    return referenceMinorUnits(String(decoding: bytes[..<end], as: UTF8.self))
}

private func scaled(_ digits: [UInt8], negative: Bool) -> Reference {
    let significant = digits.drop { $0 == UInt8(ascii: "0") }
    if significant.count > 19 { return .outOfRange }
    var value: Int128 = 0
    for digit in significant { value = value * 10 + Int128(digit - UInt8(ascii: "0")) }
    if value > Int128(Int64.max) { return .outOfRange }
    return .value(negative ? -value : value)
}

private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

private func checkPercent(_ text: String) {
    guard let percent = try? Percent.parse(text) else { return }
    guard (try? Percent.parse(percent.description)) == percent else { fatalError("Percent '\(percent.description)' (from '\(text)') does not read back") }
    guard (0...Percent.decimals).contains(percent.decimalPlaces) else { fatalError("decimal places \(percent.decimalPlaces)") }
    // The shortest text: no trailing zeros in the fraction.
    guard !percent.description.contains(".") || !percent.description.hasSuffix("0") else { fatalError("'\(percent.description)' is not the shortest text") }
}

private func checkDate(_ text: String) {
    guard let date = CalendarDate.parse(text) else { return }
    guard CalendarDate.parse(date.iso) == date, CalendarDate.parse(date.spectrum) == date else {
        fatalError("date \(date.iso) from '\(text)' does not read back")
    }
    guard CalendarDate(year: date.year, month: date.month, day: date.day) == date else { fatalError("date \(date.iso) does not exist") }
    guard date.iso.utf8.count == 10, date.spectrum.utf8.count == 10 else { fatalError("date text \(date.iso) / \(date.spectrum)") }
}
