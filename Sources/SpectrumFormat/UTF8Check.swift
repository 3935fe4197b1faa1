import SOVCore

/// UTF-8 validity of a whole file, checked in constant memory. With `--encoding windows-1252`,
/// a file that is valid UTF-8 throughout is read as UTF-8: Windows-1252 text with accented or
/// typographic characters is practically never valid UTF-8, while a UTF-8 export given in the
/// same call as a Windows-1252 one (sov.csv next to jobs.csv) would otherwise be garbled.
public enum UTF8Check {
    public enum Result: Sendable, Equatable {
        case ascii
        case validUTF8
        case notUTF8
    }

    public static func check(path: String) throws(IOFailure) -> Result {
        let input = try InputFile(path: path)
        var validator = Validator()
        var chunk = [UInt8](unsafeUninitializedCapacity: 1 << 20) { _, count in count = 1 << 20 }  // only read bytes are looked at
        while true {
            let count = try chunk.withUnsafeMutableBytes { buffer in
                Swift.Result { () throws(IOFailure) in try input.read(into: buffer) }
            }.get()
            if count == 0 { break }
            let valid = chunk.withUnsafeBufferPointer { validator.feed(UnsafeBufferPointer(rebasing: $0[0..<count])) }
            if !valid { return .notUTF8 }
        }
        guard validator.pending == 0 else { return .notUTF8 }
        return validator.sawMultibyte ? .validUTF8 : .ascii
    }

    /// Incremental UTF-8 validation (RFC 3629: no overlongs, no surrogates, nothing past U+10FFFF).
    struct Validator {
        /// Continuation bytes still expected.
        var pending = 0
        var lower: UInt8 = 0x80
        var upper: UInt8 = 0xBF
        var sawMultibyte = false

        mutating func feed(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
            for byte in bytes {
                if pending > 0 {
                    guard byte >= lower, byte <= upper else { return false }
                    pending -= 1
                    lower = 0x80
                    upper = 0xBF
                    continue
                }
                if byte < 0x80 { continue }
                sawMultibyte = true
                switch byte {
                case 0xC2...0xDF: pending = 1
                case 0xE0: pending = 2; lower = 0xA0
                case 0xE1...0xEC, 0xEE...0xEF: pending = 2
                case 0xED: pending = 2; upper = 0x9F
                case 0xF0: pending = 3; lower = 0x90
                case 0xF1...0xF3: pending = 3
                case 0xF4: pending = 3; upper = 0x8F
                default: return false
                }
            }
            return true
        }
    }
}
