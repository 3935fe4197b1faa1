/// What an input holds, told from its first bytes rather than its name (content, not
/// only the extension: docs/FORMATS.md, "Telling inputs apart"), so that standard input and misnamed files work too.
public enum InputFormat: String, Sendable, Hashable {
    case xml
    case csv
    /// Procore JSON (one object, an array, or JSON Lines).
    case json
    /// Nothing but white space.
    case empty

    /// How many bytes `sniff` looks at.
    public static let sniffLength = 64 << 10

    /// Looks past a byte order mark and white space at the first character: `<` is XML, `{` or
    /// `[` JSON, anything else CSV (a header row).
    public static func detect(_ prefix: some Collection<UInt8>) -> InputFormat {
        var bytes = prefix[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        // UTF-16 is read by libxml2 only; a UTF-16 CSV is not a Spectrum export.
        if bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF]) {
            return bytes.dropFirst(2).first(where: { $0 != 0 && !isBlankByte($0) }) == UInt8(ascii: "<") ? .xml : .csv
        }
        guard let first = bytes.first(where: { !isBlankByte($0) }) else { return .empty }
        switch first {
        case UInt8(ascii: "<"): return .xml
        case UInt8(ascii: "{"), UInt8(ascii: "["): return .json
        default: return .csv
        }
    }

    /// Detects the format of `input` without consuming anything (standard input included).
    /// Looks at a few bytes first and further only past white space, so a slow pipe is not
    /// waited on for more than its first characters.
    /// Files that are no export at all are refused here as a whole (65), with what they are,
    /// instead of being read as a CSV header and rejected row by row: a PDF, an Excel workbook,
    /// a text file with its byte order mark doubled, a `.json` file that holds no JSON.
    public static func sniff(_ input: InputFile) throws(IOFailure) -> InputFormat {
        var length = 8
        while true {
            let bytes = try input.peek(length)
            if let refusal = try refusal(bytes, input: input) {
                throw IOFailure(path: input.name, message: refusal, status: .dataError)
            }
            let format = detect(bytes)
            if format == .csv, isJSONName(input.name) {
                let line = try input.peek(80).prefix { $0 != 0x0A && $0 != 0x0D }.map { $0 < 0x20 || $0 == 0x7F ? UInt8(ascii: " ") : $0 }
                throw IOFailure(path: input.name, message: "is named like JSON but does not start with '{' or '[' (it starts '\(TextDecoder.decodeLossy(Array(line.prefix(40)), as: .utf8))'); a Procore input is a JSON object, an array of them, or JSON Lines, and it is not read as a CSV", status: .dataError)
            }
            if format != .empty || bytes.count < length || length >= sniffLength { return format }
            length = min(length * 8, sniffLength)
        }
    }

    static func isJSONName(_ name: String) -> Bool {
        let lowered = name.lowercased()
        return lowered.hasSuffix(".json") || lowered.hasSuffix(".jsonl") || lowered.hasSuffix(".ndjson")
    }

    /// What a file that no reader takes is, said with what to do instead; nil for anything else.
    static func refusal(_ bytes: [UInt8], input: InputFile) throws(IOFailure) -> String? {
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        if bytes.starts(with: bom + bom) {
            return "starts with two UTF-8 byte order marks (EF BB BF EF BB BF): the file was converted to UTF-8 twice; remove one and give it again"
        }
        let export = "export the report from Spectrum as CSV (Info-Link or a report's CSV export) or XML instead"
        if bytes.starts(with: Array("%PDF".utf8)) {
            return "is a PDF document, not a data export; \(export)"
        }
        if bytes.starts(with: [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
            return "is an Excel 97-2003 workbook (or another Office document), not a data export; save it as CSV, or \(export)"
        }
        if bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) || bytes.starts(with: [0x50, 0x4B, 0x05, 0x06]) {
            // An .xlsx is a ZIP whose entries live under xl/; the names are in the first kilobytes.
            let head = try input.peek(sniffLength)
            if head.firstRange(of: Array("xl/".utf8)) != nil {
                return "is an Excel workbook (.xlsx), not a data export; save the sheet as CSV (File > Save As > CSV UTF-8), or \(export)"
            }
            return "is a ZIP archive, not a data export; unpack it and give the files inside"
        }
        return nil
    }
}

/// White space before an input's first character: spaces, tabs and line ends.
private func isBlankByte(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
}
