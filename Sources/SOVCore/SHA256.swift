#if canImport(Glibc)
import Glibc
#endif

/// SHA-256 (FIPS 180-4), written here because CryptoKit is not on Linux and swift-crypto would
/// be a dependency for ~100 lines. `hash` and `hex` of contiguous bytes go through OpenSSL's
/// libcrypto when the process has it loaded (`OpenSSLSHA256`), and through this code otherwise. Chosen over FNV-1a 64 for the ledger's content hash: a
/// collision there would silently skip a changed contract, and a 256-bit hash makes that
/// impossible in practice for a few microseconds per document.
public struct SHA256 {
    private var state: [UInt32] = [
        0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19,
    ]
    private var pending: [UInt8] = []
    private var length: UInt64 = 0

    private static let k: [UInt32] = [
        0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
        0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
        0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
        0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
        0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
        0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
        0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
        0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
    ]

    public init() {}

    public mutating func update(_ bytes: some Sequence<UInt8>) {
        // Contiguous bytes (arrays, native strings' UTF-8) go by whole blocks: byte by byte
        // through a generic iterator costs ~20 times the compression itself.
        let done: Void? = bytes.withContiguousStorageIfAvailable { buffer in update(UnsafeRawBufferPointer(buffer)) }
        if done != nil { return }
        for byte in bytes {
            pending.append(byte)
            length &+= 1
            if pending.count == 64 {
                pending.withUnsafeBytes { compress($0) }
                pending.removeAll(keepingCapacity: true)
            }
        }
    }

    public mutating func update(_ buffer: UnsafeRawBufferPointer) {
        var offset = 0
        length &+= UInt64(buffer.count)
        if !pending.isEmpty {
            let take = min(64 - pending.count, buffer.count)
            pending.append(contentsOf: buffer[0..<take])
            offset = take
            guard pending.count == 64 else { return }
            pending.withUnsafeBytes { compress($0) }
            pending.removeAll(keepingCapacity: true)
        }
        while buffer.count - offset >= 64 {
            compress(UnsafeRawBufferPointer(rebasing: buffer[offset..<offset + 64]))
            offset += 64
        }
        pending.append(contentsOf: buffer[offset...])
    }

    /// The 32-byte digest; the hasher is spent afterwards.
    public mutating func finish() -> [UInt8] {
        let bitLength = length &* 8
        pending.append(0x80)
        while pending.count % 64 != 56 { pending.append(0) }
        for shift in stride(from: 56, through: 0, by: -8) { pending.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift))) }
        let blocks = pending
        blocks.withUnsafeBytes { raw in
            for start in stride(from: 0, to: raw.count, by: 64) { compress(UnsafeRawBufferPointer(rebasing: raw[start..<start + 64])) }
        }
        pending.removeAll()
        var digest: [UInt8] = []
        for word in state {
            for shift in stride(from: 24, through: 0, by: -8) { digest.append(UInt8(truncatingIfNeeded: word >> UInt32(shift))) }
        }
        return digest
    }

    public static func hash(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        if let digest = OpenSSLSHA256.hash(bytes) { return digest }
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.finish()
    }

    /// Lowercase hex of the digest, as `sha256sum` prints it.
    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in hash(bytes) {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// One 64-byte block; the message schedule lives on the stack.
    private mutating func compress(_ block: UnsafeRawBufferPointer) {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
            for t in 0..<16 {
                let i = t * 4
                w[t] = UInt32(block[i]) << 24 | UInt32(block[i + 1]) << 16 | UInt32(block[i + 2]) << 8 | UInt32(block[i + 3])
            }
            for t in 16..<64 {
                let s0 = rotate(w[t - 15], 7) ^ rotate(w[t - 15], 18) ^ (w[t - 15] >> 3)
                let s1 = rotate(w[t - 2], 17) ^ rotate(w[t - 2], 19) ^ (w[t - 2] >> 10)
                w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
            }
            var a = state[0], b = state[1], c = state[2], d = state[3]
            var e = state[4], f = state[5], g = state[6], h = state[7]
            SHA256.k.withUnsafeBufferPointer { k in
                for t in 0..<64 {
                    let s1 = rotate(e, 6) ^ rotate(e, 11) ^ rotate(e, 25)
                    let choice = (e & f) ^ (~e & g)
                    let temp1 = h &+ s1 &+ choice &+ k[t] &+ w[t]
                    let s0 = rotate(a, 2) ^ rotate(a, 13) ^ rotate(a, 22)
                    let majority = (a & b) ^ (a & c) ^ (b & c)
                    let temp2 = s0 &+ majority
                    h = g
                    g = f
                    f = e
                    e = d &+ temp1
                    d = c
                    c = b
                    b = a
                    a = temp1 &+ temp2
                }
            }
            state[0] &+= a
            state[1] &+= b
            state[2] &+= c
            state[3] &+= d
            state[4] &+= e
            state[5] &+= f
            state[6] &+= g
            state[7] &+= h
        }
    }

    @inline(__always) private func rotate(_ value: UInt32, _ count: UInt32) -> UInt32 { (value >> count) | (value << (32 - count)) }
}

/// OpenSSL's SHA-256, found at run time: every command with a ledger links libpq, which loads
/// libcrypto, whose SHA-256 uses the CPU's SHA extensions (or AVX2) and hashes a document about
/// ten times faster than `SHA256.compress` (4,600 instructions per 64-byte block; 13% of a
/// sov-run). Looked up, not linked, so that the stages that need no ledger (sov-parse,
/// sov-markup, sov-emit) do not load libcrypto for a hash they never take; they, and any
/// process without it, use the Swift code, which the tests hold to the same digests.
enum OpenSSLSHA256 {
    private typealias Digest = @convention(c) (UnsafeRawPointer?, Int, UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<UInt32>?, OpaquePointer?, OpaquePointer?) -> Int32
    private typealias Method = @convention(c) () -> OpaquePointer?

    /// `EVP_Digest` and the `EVP_sha256()` method (both in OpenSSL 1.1 and 3). Written once,
    /// before any use, and only read after: safe to share between threads.
    nonisolated(unsafe) private static let functions: (digest: Digest, method: OpaquePointer)? = {
        let everything = UnsafeMutableRawPointer(bitPattern: 0)  // RTLD_DEFAULT: every loaded library
        guard let digest = dlsym(everything, "EVP_Digest"), let method = dlsym(everything, "EVP_sha256"),
            let sha256 = unsafeBitCast(method, to: Method.self)()
        else { return nil }
        return (unsafeBitCast(digest, to: Digest.self), sha256)
    }()

    /// Whether hashes go through libcrypto in this process.
    static var isAvailable: Bool { functions != nil }

    /// The digest of contiguous `bytes`; nil when libcrypto is not loaded, the bytes are not
    /// contiguous, or it fails (then the Swift code hashes them).
    static func hash(_ bytes: some Sequence<UInt8>) -> [UInt8]? {
        guard let functions else { return nil }
        let digest: [UInt8]?? = bytes.withContiguousStorageIfAvailable { buffer in
            var size: UInt32 = 0
            var digest = [UInt8](repeating: 0, count: 32)
            let ok = digest.withUnsafeMutableBufferPointer { out in
                functions.digest(buffer.baseAddress.map(UnsafeRawPointer.init), buffer.count, out.baseAddress, &size, functions.method, nil)
            }
            return ok == 1 && size == 32 ? digest : nil
        }
        return digest ?? nil
    }
}
