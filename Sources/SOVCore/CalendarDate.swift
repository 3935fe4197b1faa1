/// A calendar day with no time zone: contract and change order dates are days, not instants.
public struct CalendarDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// nil when the day does not exist (13/45/2025, 02/29/2025).
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
            (1...CalendarDate.daysIn(month: month, year: year)).contains(day)
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    public static func < (lhs: CalendarDate, rhs: CalendarDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    /// ISO 8601 `YYYY-MM-DD`, the canonical and Procore form.
    public var description: String { iso }
    public var iso: String { "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))" }
    /// Spectrum's `MM/DD/YYYY`.
    public var spectrum: String { "\(pad(month, 2))/\(pad(day, 2))/\(pad(year, 4))" }

    /// Accepts `MM/DD/YYYY` (Spectrum), `YYYY-MM-DD` and `YYYYMMDD`; anything else is nil.
    /// Procore timestamps (`2025-03-14T00:00:00Z`) are not dates: callers take their date part knowingly.
    public static func parse(_ text: some StringProtocol) -> CalendarDate? {
        let bytes = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                let byte = bytes[index]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        let slash = UInt8(ascii: "/"), dash = UInt8(ascii: "-")
        switch bytes.count {
        case 10 where bytes[2] == slash && bytes[5] == slash:
            guard let m = number(0..<2), let d = number(3..<5), let y = number(6..<10) else { return nil }
            return CalendarDate(year: y, month: m, day: d)
        case 10 where bytes[4] == dash && bytes[7] == dash:
            guard let y = number(0..<4), let m = number(5..<7), let d = number(8..<10) else { return nil }
            return CalendarDate(year: y, month: m, day: d)
        case 8:
            guard let y = number(0..<4), let m = number(4..<6), let d = number(6..<8) else { return nil }
            return CalendarDate(year: y, month: m, day: d)
        default:
            return nil
        }
    }
}

private func pad(_ value: Int, _ width: Int) -> String {
    let text = String(value)
    return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
}
