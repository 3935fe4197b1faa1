/// Configuration, profile and markup files: TOML or JSON, read into one JSONValue so that each
/// consumer interprets a single shape whatever the file's syntax.
public enum ConfigFile {
    /// Reads `path`: `.json` as JSON, anything else as TOML.
    public static func load(_ path: String) throws(Diagnostic) -> JSONValue {
        let bytes: [UInt8]
        do {
            bytes = try InputFile(path: path, specialFiles: true).readAll(limit: 16 << 20)
        } catch {
            throw Diagnostic.error(.IO001, error.message, at: SourceLocation(file: path))
        }
        return try parse(bytes, name: path)
    }

    public static func parse(_ bytes: [UInt8], name: String) throws(Diagnostic) -> JSONValue {
        if name.lowercased().hasSuffix(".json") {
            do {
                return try JSONParser.parse(bytes)
            } catch {
                throw Diagnostic.error(.FMT010, "malformed JSON: \(error.message) (column \(error.column))", at: SourceLocation(file: name, line: error.line))
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw Diagnostic.error(.FMT008, "a TOML file must be UTF-8", at: SourceLocation(file: name))
        }
        do {
            return try TOML.parse(text)
        } catch {
            throw Diagnostic.error(.FMT010, "malformed TOML: \(error.message)", at: SourceLocation(file: name, line: error.line))
        }
    }
}
