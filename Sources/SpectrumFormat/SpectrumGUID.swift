/// The GUID Spectrum Data Exchange asks of every call: a session reference of up to 36
/// characters that the sender generates. Trimble recommends one GUID for a group of records
/// sent together, so the writers give each change order one GUID shared by all its records.
public enum SpectrumGUID {
    /// An RFC 4122 version 4 UUID, lowercase `8-4-4-4-12` hex (36 characters). The generator is
    /// a parameter so tests can be deterministic; production passes `SystemRandomNumberGenerator`.
    public static func make(using generator: inout some RandomNumberGenerator) -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        for half in 0..<2 {
            let word = generator.next() as UInt64
            for index in 0..<8 { bytes[half * 8 + index] = UInt8(truncatingIfNeeded: word >> (UInt64(index) * 8)) }
        }
        bytes[6] = (bytes[6] & 0x0F) | 0x40  // version 4
        bytes[8] = (bytes[8] & 0x3F) | 0x80  // variant 10xx (RFC 4122)
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(36)
        for (index, byte) in bytes.enumerated() {
            if index == 4 || index == 6 || index == 8 || index == 10 { text.append(UInt8(ascii: "-")) }
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    public static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        return make(using: &generator)
    }
}
