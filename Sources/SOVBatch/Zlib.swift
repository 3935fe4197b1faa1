import CZlib
import SOVCore

/// zlib streams (RFC 1950: deflate with an Adler-32 check of the whole), in which the SQLite
/// ledger stored unit documents and bodies before `zstd2` (`stored_as = 'zlib'` and `'zlib2'`;
/// docs/ARCHITECTURE.md, "Ledger backends"): read back by `unpack`, and written by `pack` only
/// where a test makes rows as those releases did.
enum ZlibPacker {
    /// `bytes` as one zlib stream (level 1).
    static func pack(_ bytes: [UInt8]) -> [UInt8] {
        var length = compressBound(uLong(bytes.count))
        var out = [UInt8](repeating: 0, count: Int(length))
        let result = out.withUnsafeMutableBufferPointer { target in
            bytes.withUnsafeBufferPointer { source in compress2(target.baseAddress, &length, source.baseAddress, uLong(source.count), 1) }
        }
        precondition(result == Z_OK, "zlib: compress2 failed (\(result))")
        out.removeSubrange(Int(length)...)
        return out
    }

    static func pack(_ text: String) -> [UInt8] { pack(Array(text.utf8)) }

    /// A unit as `zlib2` held it: the document's UTF-8 length as 4 bytes little-endian, the
    /// document, then the body, as one stream.
    static func pack(document: String, body: [UInt8]) -> [UInt8] {
        pack(UnitLayout.join(document: document, body: body))
    }

    /// What `pack(document:body:)` was given; nil unless `bytes` is one intact stream whose
    /// length prefix fits it.
    static func unpackUnit(_ bytes: [UInt8]) -> (document: ArraySlice<UInt8>, body: ArraySlice<UInt8>)? {
        unpack(bytes).flatMap(UnitLayout.split)
    }

    /// What `pack` was given; nil unless `bytes` is exactly one whole, intact zlib stream (a
    /// damaged value is never returned as if it were the data).
    static func unpack(_ bytes: [UInt8]) -> [UInt8]? {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer {
            stream.deinitialize(count: 1)
            stream.deallocate()
        }
        guard sov_inflate_init(stream) == Z_OK else { return nil }
        defer { inflateEnd(stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: max(4 * bytes.count, 16 << 10))
        return bytes.withUnsafeBytes { input -> [UInt8]? in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.pointee.avail_in = uInt(input.count)
            while true {
                let (result, produced) = chunk.withUnsafeMutableBufferPointer { out -> (Int32, Int) in
                    stream.pointee.next_out = out.baseAddress
                    stream.pointee.avail_out = uInt(out.count)
                    let result = inflate(stream, Z_NO_FLUSH)
                    return (result, out.count - Int(stream.pointee.avail_out))
                }
                output.append(contentsOf: chunk[..<produced])
                switch result {
                case Z_STREAM_END:
                    // Anything after the stream's end is not ours either.
                    return stream.pointee.avail_in == 0 ? output : nil
                case Z_OK:
                    continue
                default:
                    // Z_BUF_ERROR with all input used: cut short; Z_DATA_ERROR: damaged.
                    return nil
                }
            }
        }
    }
}
