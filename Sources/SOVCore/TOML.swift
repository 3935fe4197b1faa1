public struct TOMLError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var line: Int

    public init(message: String, line: Int) {
        self.message = message
        self.line = line
    }

    public var description: String { "line \(line): \(message)" }
}

/// TOML 1.0 reader into JSONValue (tables -> objects in document order).
public enum TOML {
    public static func parse(_ text: String) throws(TOMLError) -> JSONValue {
        throw TOMLError(message: "TOML is not supported yet; use a .json file", line: 1)
    }
}
