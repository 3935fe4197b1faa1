/// The encodings Spectrum exports come in. Windows-1252 is what Spectrum on Windows often writes.
public enum TextEncoding: String, Sendable, Hashable, CaseIterable {
    case utf8 = "utf-8"
    case windows1252 = "windows-1252"

    /// Accepts the usual spellings: utf8, UTF-8, cp1252, windows-1252.
    public init?(name: String) {
        switch name.lowercased() {
        case "utf-8", "utf8": self = .utf8
        case "windows-1252", "cp1252", "win1252", "windows1252": self = .windows1252
        default: return nil
        }
    }
}

public enum TextDecodingError: Error, Sendable, Hashable {
    /// Offset (within the decoded bytes) of the first byte that is not valid.
    case invalidUTF8(offset: Int)
    /// A byte Windows-1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D).
    case undefinedWindows1252(offset: Int, byte: UInt8)

    public var offset: Int {
        switch self {
        case .invalidUTF8(let offset), .undefinedWindows1252(let offset, _): offset
        }
    }
}

public enum TextDecoder {
    /// Decodes `bytes` exactly: no replacement characters, ever.
    public static func decode(_ bytes: UnsafeBufferPointer<UInt8>, as encoding: TextEncoding) throws(TextDecodingError) -> String {
        var ascii = true
        for byte in bytes where byte >= 0x80 {
            ascii = false
            break
        }
        if ascii { return String(decoding: bytes, as: UTF8.self) }
        switch encoding {
        case .utf8:
            if let text = String(validating: bytes, as: UTF8.self) { return text }
            throw .invalidUTF8(offset: firstInvalidUTF8(bytes))
        case .windows1252:
            var scalars = String.UnicodeScalarView()
            for (offset, byte) in bytes.enumerated() {
                if byte < 0x80 || byte >= 0xA0 {
                    scalars.append(Unicode.Scalar(byte))
                } else {
                    let value = windows1252High[Int(byte - 0x80)]
                    guard value != 0, let scalar = Unicode.Scalar(value) else {
                        throw .undefinedWindows1252(offset: offset, byte: byte)
                    }
                    scalars.append(scalar)
                }
            }
            return String(scalars)
        }
    }

    /// Decodes what can be decoded and shows each byte that cannot as U+FFFD: for keeping a
    /// rejected record readable, never for data that goes on.
    public static func decodeLossy(_ bytes: UnsafeBufferPointer<UInt8>, as encoding: TextEncoding) -> String {
        switch encoding {
        case .utf8:
            return String(decoding: bytes, as: UTF8.self)
        case .windows1252:
            var scalars = String.UnicodeScalarView()
            for byte in bytes {
                if byte < 0x80 || byte >= 0xA0 {
                    scalars.append(Unicode.Scalar(byte))
                } else {
                    let value = windows1252High[Int(byte - 0x80)]
                    scalars.append(value == 0 ? "\u{FFFD}" : Unicode.Scalar(value) ?? "\u{FFFD}")
                }
            }
            return String(scalars)
        }
    }

    public static func decodeLossy(_ bytes: [UInt8], as encoding: TextEncoding) -> String {
        bytes.withUnsafeBufferPointer { decodeLossy($0, as: encoding) }
    }

    public static func decode(_ bytes: [UInt8], as encoding: TextEncoding) throws(TextDecodingError) -> String {
        try bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(TextDecodingError) in try decode(buffer, as: encoding) }
        }.get()
    }

    /// Offset of the first byte that breaks UTF-8 (for messages that name the byte).
    static func firstInvalidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            let length: Int
            switch byte {
            case 0x00..<0x80: length = 1
            case 0xC2..<0xE0: length = 2
            case 0xE0..<0xF0: length = 3
            case 0xF0..<0xF5: length = 4
            default: return index
            }
            if index + length > bytes.count { return index }
            if length > 1, String(validating: UnsafeBufferPointer(rebasing: bytes[index..<index + length]), as: UTF8.self) == nil {
                return index
            }
            index += length
        }
        return index
    }

    /// Windows-1252 0x80...0x9F; 0 marks the five undefined bytes.
    static let windows1252High: [UInt32] = [
        0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
        0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
    ]
}
