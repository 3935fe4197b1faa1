import SOVCore

/// A Procore JSON input that cannot be read at all: malformed JSON. The whole input is refused
/// (exit 65), never half-imported.
public struct ProcoreInputFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String

    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var status: ExitStatus { .dataError }

    /// `file:line:column: malformed JSON: ...`, the form editors jump to.
    public var description: String { "\(file):\(line):\(column): malformed JSON: \(message)" }

    public var diagnostic: Diagnostic {
        .error(.FMT010, "malformed JSON at column \(column): \(message)", at: SourceLocation(file: file, line: line))
    }
}

/// What one Procore input yields: canonical change orders, documents rejected with every problem
/// found, or (instead of both) a whole-input failure.
public struct ProcoreReadResult: Sendable {
    public var documents: [CanonicalDocument]
    public var rejects: [Reject]
    public var failure: ProcoreInputFailure?

    public init(documents: [CanonicalDocument] = [], rejects: [Reject] = [], failure: ProcoreInputFailure? = nil) {
        self.documents = documents
        self.rejects = rejects
        self.failure = failure
    }

    /// Documents read, accepted or not.
    public var documentCount: Int { documents.count + rejects.count }
}

/// Reads Procore change order exports (SPEC §3) into canonical `change_order` documents: the ERP
/// export event (`create_prime_contract_change_order`, whole or its `request_data`) and the REST
/// change order package, as one JSON object, an array of them, or JSON Lines.
public enum ProcoreReader {
    /// The entry point for `sov-parse` on a JSON input. `markups` is the content of `--markups FILE`
    /// (a markups list), used for REST packages that carry no `markups` of their own.
    public static func read(bytes: [UInt8], file: String, markups: JSONValue? = nil) -> ProcoreReadResult {
        let values: [(line: Int, value: JSONValue)]
        do {
            values = try JSONParser.parseSequence(bytes)
        } catch {
            return ProcoreReadResult(failure: ProcoreInputFailure(file: file, line: error.line, column: error.column, message: error.message))
        }
        let elementLines = ArrayElementLines.scan(bytes)
        var result = ProcoreReadResult()
        // Record numbers only where an input holds several documents (an array, JSON Lines).
        let numbered = values.count > 1 || values.first?.value.arrayValue != nil
        var record = 0
        func take(_ value: JSONValue, line: Int) {
            record += 1
            let location = SourceLocation(file: file, line: line, record: numbered ? record : nil)
            switch changeOrder(from: value, at: location, markups: markups) {
            case .success(let order): result.documents.append(.changeOrder(order))
            case .failure(let rejection): result.rejects.append(Reject(record: value, diagnostics: rejection.diagnostics))
            }
        }
        for (index, item) in values.enumerated() {
            if case .array(let elements) = item.value {
                let lines = index < elementLines.count ? elementLines[index] : []
                for (offset, element) in elements.enumerated() {
                    take(element, line: offset < lines.count ? lines[offset] : item.line)
                }
            } else {
                take(item.value, line: item.line)
            }
        }
        return result
    }

    /// One Procore document (either shape) as a canonical change order, or every problem found.
    public static func changeOrder(from value: JSONValue, at location: SourceLocation, markups: JSONValue? = nil) -> Result<ChangeOrder, ProcoreRejection> {
        let problems = DocumentProblems()
        guard value.members != nil else {
            return .failure(ProcoreRejection(diagnostics: [.error(.FMT010, "a Procore change order must be a JSON object", at: location, value: String(value.text.prefix(80)))]))
        }
        let root = ProcoreObject(value: value, path: "", location: location, problems: problems)
        let order: ChangeOrder?
        if root.has("request_data") {
            if let type = root.text("request_type") ?? root.text("event_type"), type != ProcoreEventShape.requestType {
                root.problem("request_type", .FMT010, "not a prime contract change order export event (expected \(ProcoreEventShape.requestType))", value: type)
            }
            order = root.object("request_data").flatMap { ProcoreEventShape.changeOrder(data: $0, envelope: root) }
        } else if root.has("prime_contract_change_order") {
            order = ProcoreEventShape.changeOrder(data: root, envelope: nil)
        } else {
            order = ProcorePackageShape.changeOrder(document: root, markupList: markups)
        }
        if let order, problems.isEmpty { return .success(order) }
        var diagnostics = problems.diagnostics
        if diagnostics.isEmpty {
            diagnostics.append(.error(.FMT010, "not a Procore change order", at: location))
        }
        return .failure(ProcoreRejection(diagnostics: diagnostics))
    }

    /// Reads a `--markups FILE`: the JSON of `GET /rest/v1.0/financials/markups` (an array), or an
    /// object holding it under `markups`.
    public static func loadMarkups(_ path: String) throws(Diagnostic) -> JSONValue {
        let bytes: [UInt8]
        do {
            bytes = try InputFile(path: path).readAll(limit: 64 << 20)
        } catch {
            throw Diagnostic.error(.IO001, "cannot read the markups file: \(error.message)", at: SourceLocation(file: path))
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw Diagnostic.error(.FMT010, "malformed JSON at column \(error.column): \(error.message)", at: SourceLocation(file: path, line: error.line))
        }
        if value.arrayValue != nil { return value }
        if let list = value["markups"], list.arrayValue != nil { return list }
        throw Diagnostic.error(.FMT010, "a markups file is a JSON array of Procore markups (GET /rest/v1.0/financials/markups)", at: SourceLocation(file: path))
    }

    /// Whether an input looks like JSON (its first byte after white space and a BOM is `{` or `[`),
    /// for callers that choose a reader by content.
    public static func looksLikeJSON(_ bytes: some Collection<UInt8>) -> Bool {
        var rest = bytes[...]
        if rest.starts(with: [0xEF, 0xBB, 0xBF]) { rest = rest.dropFirst(3) }
        guard let first = rest.first(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }) else { return false }
        return first == UInt8(ascii: "{") || first == UInt8(ascii: "[")
    }
}

/// Every problem that kept one Procore document out.
public struct ProcoreRejection: Error, Sendable, Hashable {
    public var diagnostics: [Diagnostic]

    public init(diagnostics: [Diagnostic]) {
        self.diagnostics = diagnostics
    }
}

/// The line each element of a top-level array starts on, so that a problem in the 40th change
/// order of an array names its line. Runs only on input the parser accepted.
enum ArrayElementLines {
    /// One entry per top-level value, in order: element start lines for an array, [] otherwise.
    static func scan(_ bytes: [UInt8]) -> [[Int]] {
        var result: [[Int]] = []
        var index = 0
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
        var line = 1
        var depth = 0
        var inString = false
        var escaped = false
        var inTopScalar = false
        var topIsArray = false
        var awaitingElement = false
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case 0x0A:
                line += 1
                inTopScalar = false
                continue
            case 0x20, 0x09, 0x0D:
                inTopScalar = false
                continue
            default: break
            }
            if depth == 0 {
                let opensValue = byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") || byte == UInt8(ascii: "\"")
                if opensValue || !inTopScalar {
                    result.append([])
                    topIsArray = byte == UInt8(ascii: "[")
                    inTopScalar = !opensValue
                }
            } else if depth == 1, topIsArray, awaitingElement, byte != UInt8(ascii: "]") {
                result[result.count - 1].append(line)
                awaitingElement = false
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth == 1 { awaitingElement = topIsArray }
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth -= 1
            case UInt8(ascii: ","):
                if depth == 1, topIsArray { awaitingElement = true }
            default: break
            }
        }
        return result
    }
}
