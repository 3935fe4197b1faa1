import SOVCore
import SpectrumFormat

/// The Spectrum XML reader (libxml2's SAX2 push parser) on arbitrary bytes, first record by record,
/// then in packed batches (which must agree), then through the layouts into canonical documents,
/// as `sov-parse` runs it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzXML(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = FuzzFile.write(UnsafeBufferPointer(start: data, count: size))
    let (records, failed) = readRecords(path)
    readPacked(path, expected: records, failed: failed)
    parseDocuments(path)
    return 0
}

/// Every record one at a time, and whether reading ended in the input being unusable.
private func readRecords(_ path: String) -> (records: [Record], failed: Bool) {
    var records: [Record] = []
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
                records.append(record)
            case .malformed(let raw, let diagnostic):
                _ = raw.text
                CanonicalCheck.diagnostic(diagnostic)
            }
        }
        // The end stays the end.
        let after = try reader.next()
        precondition(after == nil, "a record after the end")
    } catch let unusable as InputFailure {
        precondition(unusable.diagnostics.count == 1, "an unusable input says one finding")
        for diagnostic in unusable.diagnostics {
            CanonicalCheck.diagnostic(diagnostic)
            precondition(diagnostic.location.file == path)
        }
        return (records, true)
    } catch is IOFailure {
        return (records, true)
    } catch {
        fatalError("unexpected error type: \(error)")
    }
    return (records, false)
}

/// Packed a few at a time (as the prefetching thread takes them), the same records, then the
/// same end.
private func readPacked(_ path: String, expected: [Record], failed: Bool) {
    var records: [Record] = []
    var packedFailed = false
    do {
        let reader = try XMLRecordReader(try InputFile(path: path))
        while let batch = try reader.nextPacked(maximumRecords: 3, maximumBytes: 64) {
            precondition(!batch.isEmpty && batch.count <= 3, "a batch of \(batch.count) records")
            for item in batch.records() {
                guard case .record(let record) = item else { fatalError("an XML batch with a malformed row") }
                records.append(record)
            }
        }
    } catch is InputFailure {
        packedFailed = true
    } catch is IOFailure {
        packedFailed = true
    } catch {
        fatalError("unexpected error type: \(error)")
    }
    precondition(packedFailed == failed, "packed reading \(packedFailed ? "failed" : "succeeded"), one at a time \(failed ? "failed" : "succeeded")")
    precondition(records.map(\.values) == expected.map(\.values), "packed records differ in their values")
    precondition(records.map(\.names) == expected.map(\.names), "packed records differ in their names")
    precondition(records.map(\.line) == expected.map(\.line), "packed records differ in their lines")
}

private func parseDocuments(_ path: String) {
    for profile in [SpectrumProfile.standard, SpectrumProfile(money: .accounting)] {
        let parser = SpectrumParser(options: SpectrumReadOptions(profile: profile))
        let emit: (ReadEvent) -> Void = { output in
            switch output {
            case .read(.accepted(let document)), .read(.held(let document)): CanonicalCheck.roundTrip(document)
            case .read(.rejected(let reject)): CanonicalCheck.reject(reject)
            case .warning(let diagnostic): CanonicalCheck.diagnostic(diagnostic)
            }
        }
        do {
            try parser.parse(try InputFile(path: path), format: .xml, emit: emit)
        } catch is InputFailure {
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
