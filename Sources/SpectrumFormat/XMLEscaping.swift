/// Text into XML 1.0 element content, for the Spectrum writers.
///
/// Escapes `&`, `<`, `>`, `"` and `'` (quotes too, so the same text is safe in an attribute),
/// and a carriage return as `&#13;`: a parser turns a literal CR into LF, which would change
/// the value on the way back. Characters that XML 1.0 cannot carry at all, even escaped
/// (C0 controls other than tab, LF and CR; U+FFFE and U+FFFF), are not silently dropped: the
/// caller finds them with `firstForbiddenCharacter` and rejects the document.
public enum XMLEscaping {
    /// Whether XML 1.0 allows `scalar` in a document (production `Char`).
    public static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09, 0x0A, 0x0D: true
        case 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: true
        default: false
        }
    }

    /// The first character XML 1.0 forbids, with its 1-based position in unicode scalars.
    public static func firstForbiddenCharacter(in text: String) -> (position: Int, scalar: Unicode.Scalar)? {
        var position = 0
        for scalar in text.unicodeScalars {
            position += 1
            if !isAllowed(scalar) { return (position, scalar) }
        }
        return nil
    }

    /// `U+0007` style name for messages.
    public static func describe(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    /// Appends `text` escaped for element content. Forbidden characters must have been rejected
    /// before; should one slip through it is written as U+FFFD so the document stays well-formed.
    public static func append(_ text: String, into output: inout String) {
        // Fast path: most codes and amounts need no escaping at all.
        if !text.utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 || $0 < 0x20 || $0 == 0xEF }) {
            output += text
            return
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": output += "&amp;"
            case "<": output += "&lt;"
            case ">": output += "&gt;"
            case "\"": output += "&quot;"
            case "'": output += "&apos;"
            case "\r": output += "&#13;"
            default:
                output.unicodeScalars.append(isAllowed(scalar) ? scalar : "\u{FFFD}")
            }
        }
    }

    public static func escape(_ text: String) -> String {
        var output = ""
        output.reserveCapacity(text.utf8.count)
        append(text, into: &output)
        return output
    }
}
