/// An exact percentage with up to six decimals, held as millionths of a percent:
/// 3.5 % is 3_500_000. Parsed from text only, never from a binary float.
public struct Percent: Sendable, Hashable, Comparable, CustomStringConvertible {
    public static let decimals = 6
    public static let scale: Int64 = 1_000_000

    public var millionths: Int64

    public init(millionths: Int64) { self.millionths = millionths }

    public static let zero = Percent(millionths: 0)

    public static func < (lhs: Percent, rhs: Percent) -> Bool { lhs.millionths < rhs.millionths }

    /// "3.5", "10", "-0.125": the shortest exact text.
    public var description: String {
        let magnitude = millionths.magnitude
        var text = millionths < 0 ? "-" : ""
        text += String(magnitude / UInt64(Percent.scale))
        var fraction = String(magnitude % UInt64(Percent.scale))
        if fraction != "0" {
            fraction = String(repeating: "0", count: Percent.decimals - fraction.count) + fraction
            while fraction.last == "0" { fraction.removeLast() }
            text += "." + fraction
        }
        return text
    }

    /// Number of decimals the value needs (for limits such as Spectrum's Fee_Percent 3.2).
    public var decimalPlaces: Int {
        var fraction = millionths.magnitude % UInt64(Percent.scale)
        if fraction == 0 { return 0 }
        var places = Percent.decimals
        while fraction % 10 == 0 { fraction /= 10; places -= 1 }
        return places
    }

    public static func parse(_ text: some StringProtocol) throws(MoneyParseError) -> Percent {
        // Trailing zeros past six decimals carry no value ("3.50000000").
        let trimmed = droppingInsignificantZeros(Substring(text), keeping: decimals)
        return Percent(millionths: try parseScaled(trimmed, scale: decimals, format: .strict))
    }
}
