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
        fatalError("CanonicalReader threw on a plain file: \(error)")
    }
    return 0
}
