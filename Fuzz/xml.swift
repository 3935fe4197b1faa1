import SOVCore
import SpectrumFormat

/// The Spectrum XML reader (libxml2's xmlTextReader) on arbitrary bytes, first record by record,
/// then through the layouts into canonical documents, as `sov-parse` runs it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzXML(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = FuzzFile.write(UnsafeBufferPointer(start: data, count: size))
    readRecords(path)
    parseDocuments(path)
    return 0
}

private func readRecords(_ path: String) {
    do {
        let reader = try XMLRecordReader(try InputFile(path: path))
        while let item = try reader.next() {
            switch item {
            case .record(let record):
                precondition(record.line >= 1, "record on line \(record.line)")
                precondition(record.count == record.fieldNames.count)
                precondition(record.count <= XMLRecordReader.maximumFieldsPerRecord)
                precondition(record.count > 0, "a record without fields")
                _ = record.json.text
            case .malformed(let raw, let diagnostic):
                _ = raw.text
                CanonicalCheck.diagnostic(diagnostic)
            }
        }
        // The end stays the end.
        let after = try reader.next()
        precondition(after == nil, "a record after the end")
    } catch let unusable as InputUnusable {
        CanonicalCheck.diagnostic(unusable.diagnostic)
        precondition(unusable.diagnostic.location.file == path)
    } catch is IOFailure {
    } catch {
        fatalError("unexpected error type: \(error)")
    }
}

private func parseDocuments(_ path: String) {
    for profile in [SpectrumProfile.standard, SpectrumProfile(money: .accounting)] {
        let parser = SpectrumParser(options: SpectrumReadOptions(profile: profile))
        let emit: (SpectrumOutput) -> Void = { output in
            switch output {
            case .document(let document): CanonicalCheck.roundTrip(document)
            case .rejected(let reject): CanonicalCheck.reject(reject)
            case .warning(let diagnostic): CanonicalCheck.diagnostic(diagnostic)
            }
        }
        do {
            try parser.parse(try InputFile(path: path), format: .xml, emit: emit)
        } catch is InputUnusable {
        } catch is IOFailure {
        } catch {
            fatalError("unexpected error type: \(error)")
        }
        do {
            try parser.finish(emit: emit)
        } catch {
            fatalError("finish threw: \(error)")
        }
    }
}
