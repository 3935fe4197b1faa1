import SOVCore

/// Where and why a Procore JSON input is not JSON: the line, column and message a parse of the
/// whole input gives. The whole input is refused as an `InputFailure` (exit 65), never
/// half-imported.
public struct ProcoreSyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
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

    /// The input this error makes unusable.
    public var inputFailure: InputFailure {
        InputFailure(path: file, status: status, message: "line \(line), column \(column): malformed JSON: \(message)", diagnostics: [diagnostic])
    }
}

/// What one Procore input yields: canonical change orders, documents rejected with every problem
/// found, or (instead of both) a whole-input failure.
public struct ProcoreReadResult: Sendable {
    public var documents: [CanonicalDocument]
    public var rejects: [Reject]
    public var failure: ProcoreSyntaxError?

    public init(documents: [CanonicalDocument] = [], rejects: [Reject] = [], failure: ProcoreSyntaxError? = nil) {
        self.documents = documents
        self.rejects = rejects
        self.failure = failure
    }

    /// Documents read, accepted or not.
    public var documentCount: Int { documents.count + rejects.count }
}

/// Reads Procore change order exports (docs/FORMATS.md, "Procore inputs") into canonical `change_order` documents: the ERP
/// export event (`create_prime_contract_change_order`, whole or its `request_data`) and the REST
/// change order package, as one JSON object, an array of them, or JSON Lines.
public enum ProcoreReader {
    /// A whole input held in memory (`ProcoreStreamReader` reads a file document by document).
    /// `markups` is the content of `--markups FILE` (a markups list), used for REST packages that
    /// carry no `markups` of their own.
    public static func read(bytes: [UInt8], file: String, markups: JSONValue? = nil) -> ProcoreReadResult {
        let reader = ProcoreStreamReader(bytes: bytes, file: file, markups: markups)
        var result = ProcoreReadResult()
        do {
            while let item = try reader.next() {
                switch item {
                case .accepted(let document), .held(let document): result.documents.append(document)
                case .rejected(let reject): result.rejects.append(reject)
                }
            }
        } catch let failure as ProcoreSyntaxError {
            return ProcoreReadResult(failure: failure)
        } catch {
            // Bytes in memory: there is nothing to read that could fail.
            preconditionFailure("reading bytes in memory failed: \(error)")
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
            bytes = try InputFile(path: path, specialFiles: true).readAll(limit: 64 << 20)
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
