/// How an exact quotient becomes an integer. The mode is always named at the call site,
/// so a reader can see which rule a figure followed.
public enum RoundingMode: Sendable, Hashable {
    /// Ties go away from zero: 0.005 -> 0.01, -0.005 -> -0.01 (the product default: docs/FORMATS.md, "Markup").
    case halfAwayFromZero
    /// Ties go to the even neighbour (banker's rounding).
    case halfEven
    /// Drops the remainder: 0.019 -> 0.01, -0.019 -> -0.01.
    case towardZero
}

public enum Rounding {
    /// `numerator / denominator` rounded to an integer with `mode`. `denominator` must not be 0.
    public static func divide(_ numerator: Int128, by denominator: Int128, _ mode: RoundingMode) -> Int128 {
        precondition(denominator != 0, "division by zero")
        let quotient = numerator / denominator  // truncates toward zero
        let remainder = numerator % denominator  // same sign as numerator
        if remainder == 0 { return quotient }
        let negative = (numerator < 0) != (denominator < 0)
        let step: Int128 = negative ? -1 : 1
        switch mode {
        case .towardZero:
            return quotient
        case .halfAwayFromZero, .halfEven:
            let twiceRemainder = remainder.magnitude * 2
            let divisor = denominator.magnitude
            if twiceRemainder > divisor { return quotient + step }
            if twiceRemainder < divisor { return quotient }
            if mode == .halfAwayFromZero { return quotient + step }
            return quotient % 2 == 0 ? quotient : quotient + step
        }
    }
}
