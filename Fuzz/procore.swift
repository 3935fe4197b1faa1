import ProcoreFormat
import SOVCore

/// The JSON parser and the Procore change order reader on arbitrary bytes; also the canonical
/// document decoder every later stage uses on its input lines. What parses, written back, parses
/// to the same value; every document the readers make survives the trip between stages.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzProcore(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var markups: JSONValue?
    if let values = try? JSONParser.parseSequence(bytes) {
        for (line, value) in values {
            precondition(line >= 1)
            let text = value.text
            guard (try? JSONParser.parse(text)) == value else { fatalError("JSON round trip changed\n\(text)") }
            if value.arrayValue != nil { markups = value }
            // Canonical decoding: every stage after sov-parse reads lines this way.
            if let document = try? CanonicalDocument(json: value) { CanonicalCheck.roundTrip(document) }
        }
    }
    checkStreamAgainstWholeParse(bytes)
    for markupList in [nil, markups] {
        let result = ProcoreReader.read(bytes: bytes, file: "fuzz.json", markups: markupList)
        if let failure = result.failure {
            precondition(result.documents.isEmpty && result.rejects.isEmpty, "a failed input yields documents")
            precondition(failure.line >= 1 && failure.column >= 1, "\(failure)")
            CanonicalCheck.diagnostic(failure.diagnostic)
        }
        for document in result.documents { CanonicalCheck.roundTrip(document) }
        for reject in result.rejects { CanonicalCheck.reject(reject) }
    }
    // The same bytes as JSON Lines between stages.
    let path = FuzzFile.write(UnsafeBufferPointer(start: data, count: size))
    do {
        var reader = CanonicalReader(try InputFile(path: path))
        while let item = try reader.next() {
            switch item {
            case .document(let document): CanonicalCheck.roundTrip(document)
            case .malformed(let raw, let diagnostic):
                _ = raw.text
                CanonicalCheck.diagnostic(diagnostic)
            }
        }
    } catch {
        // Another canonical schema version fails the input on purpose (docs/FORMATS.md, "Reading it back"); nothing else may.
        guard error.status == .dataError, error.message.hasPrefix("unknown canonical schema version") else {
            fatalError("CanonicalReader threw on a plain file: \(error)")
        }
    }
    return 0
}

/// The streaming reader (what sov-parse uses, and what `ProcoreReader.read` runs on) must agree
/// with a parse of the whole input: the same failure (line, column, message), or the same values
/// taken in the same order, numbered the same way.
private func checkStreamAgainstWholeParse(_ bytes: [UInt8]) {
    let result = ProcoreReader.read(bytes: bytes, file: "fuzz.json")
    let whole: [(line: Int, value: JSONValue)]
    do {
        whole = try JSONParser.parseSequence(bytes)
    } catch {
        if error.duplicateKey != nil {
            // A repeated key fails the whole parse, but the stream rejects that one document and
            // reads on (issue 16): it must have said so, or failed on something further on.
            guard result.failure != nil || result.rejects.contains(where: { $0.diagnostics.contains { $0.message.contains("appears twice in one object") } }) else {
                fatalError("the whole parse finds a duplicate key (\(error)), the stream says nothing of it")
            }
            return
        }
        guard let failure = result.failure else { fatalError("the whole parse fails (\(error)), the stream does not") }
        guard failure.line == error.line, failure.column == error.column, failure.message == error.message else {
            fatalError("the stream fails with \(failure), the whole parse with \(error)")
        }
        return
    }
    if let failure = result.failure { fatalError("the stream fails (\(failure)), the whole parse does not") }
    var values: [JSONValue] = []
    for item in whole {
        if case .array(let elements) = item.value { values += elements } else { values.append(item.value) }
    }
    let numbered = whole.count > 1 || whole.first?.value.arrayValue != nil
    var documents = result.documents[...]
    var rejects = result.rejects[...]
    // Reads back in input order: a value is a document or a reject; both keep their record number.
    for (index, value) in values.enumerated() {
        let record = numbered ? index + 1 : nil
        if let reject = rejects.first, reject.record == value, reject.diagnostics.first?.location.record == record {
            rejects.removeFirst()
            let at = reject.diagnostics.first!.location
            guard case .failure(let rejection) = ProcoreReader.changeOrder(from: value, at: SourceLocation(file: at.file, line: at.line, record: at.record)),
                rejection.diagnostics == reject.diagnostics
            else { fatalError("value \(index) is rejected differently by the stream") }
        } else if let document = documents.first, document.source.record == record {
            documents.removeFirst()
            guard case .success(let order) = ProcoreReader.changeOrder(from: value, at: document.source), CanonicalDocument.changeOrder(order) == document else {
                fatalError("value \(index) reads differently in the stream")
            }
        } else {
            fatalError("value \(index) of \(values.count) is missing from the stream (record \(String(describing: record)))")
        }
    }
    guard documents.isEmpty, rejects.isEmpty else { fatalError("the stream yields more than the whole parse") }
}
