import Foundation
import SOVTestSupport
import SOVBatch
@testable import SOVCore
import Testing

struct SHA256Tests {
    /// FIPS 180-4 / NIST CAVP example vectors.
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
        ("The quick brown fox jumps over the lazy dog", "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592"),
    ])
    func knownVectors(input: String, digest: String) {
        #expect(SHA256.hex(input.utf8) == digest)
    }

    @Test func millionAs() {
        #expect(SHA256.hex(repeatElement(UInt8(ascii: "a"), count: 1_000_000)) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Every length around the 55/56/64-byte padding edges, against coreutils' sha256sum.
    @Test func agreesWithSha256sumAcrossBlockEdges() throws {
        let folder = TemporaryFolder()
        var expected: [String] = []
        var paths: [String] = []
        for length in 0...130 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ length) }
            let path = folder.file("v\(length)")
            #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
            paths.append(path)
            expected.append(SHA256.hex(bytes))
        }
        let sha256sum = try ChildProcess.run("/usr/bin/sha256sum", paths)
        #expect(sha256sum.status == 0, "\(sha256sum.stderr)")
        let digests = sha256sum.stdoutText.split(separator: "\n").map { String($0.prefix(64)) }
        #expect(digests == expected)
        // The Swift code too (the incremental hasher never goes through libcrypto).
        let swift = (0...130).map { length in
            var hasher = SHA256()
            hasher.update((0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ length) })
            return hasher.finish().map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
        }
        #expect(swift == expected)
    }

    /// This test process links libpq, as every command with a ledger does: `hash` goes through
    /// libcrypto, and gives what the Swift code gives, at every length around the block edges
    /// and on large inputs, whole or fed in pieces.
    @Test func libcryptoAndTheSwiftCodeAgree() {
        #expect(OpenSSLSHA256.isAvailable)
        var random = SplitMix64(seed: 256)
        var inputs: [[UInt8]] = (0...200).map { length in (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) } }
        inputs.append((0..<1_000_003).map { _ in UInt8(truncatingIfNeeded: random.next()) })
        for input in inputs {
            var hasher = SHA256()
            for piece in stride(from: 0, to: input.count, by: 977) { hasher.update(input[piece..<min(input.count, piece + 977)]) }
            let swift = hasher.finish()
            #expect(OpenSSLSHA256.hash(input) == swift)
            #expect(SHA256.hash(input) == swift)
        }
        // Bytes that are not contiguous take the Swift code.
        #expect(OpenSSLSHA256.hash(repeatElement(UInt8(1), count: 5)) == nil)
    }
}

struct ContentHashTests {
    @Test func ignoresWhereTheDocumentCameFromAndItsWarnings() {
        let a = Fixtures.contract(job: "24-1017", file: "monday.jsonl", line: 3)
        var b = Fixtures.contract(job: "24-1017", file: "tuesday/export.jsonl", line: 40)
        b.diagnostics = [.warning(.FMT005, "description cut to 30 characters")]
        guard case .primeContract(var withLineSources) = b else { return }
        withLineSources.lines[0].source = SourceLocation(file: "sov.csv", line: 9)
        #expect(ContentHash.of(a) == ContentHash.of(b))
        #expect(ContentHash.of(a) == ContentHash.of(.primeContract(withLineSources)))
        #expect(ContentHash.comparable(a)["source"] == nil)
        #expect(ContentHash.comparable(a)["diagnostics"] == nil)
        #expect(ContentHash.of(a).count == 64)
    }

    @Test func changesWithTheContent() {
        let a = Fixtures.contract(job: "24-1017")
        #expect(ContentHash.of(a) != ContentHash.of(Fixtures.contract(job: "24-1017", amounts: ["1000.00", "2500.01"])))
        #expect(ContentHash.of(a) != ContentHash.of(Fixtures.contract(job: "24-1017", title: "Renamed")))
        #expect(ContentHash.of(a) != ContentHash.of(Fixtures.contract(job: "24-1018")))
    }
}

struct DocumentChangesTests {
    @Test func namesTopLevelFieldsAndLineAmounts() {
        let old = ContentHash.comparable(Fixtures.contract(job: "24-1017", amounts: ["1000.00", "2500.00"]))
        let new = ContentHash.comparable(Fixtures.contract(job: "24-1017", amounts: ["1200.00", "2500.00", "300.00"], title: "Main contract rev 2"))
        let changes = DocumentChanges.describe(from: old, to: new)
        #expect(changes == [
            "title: Main contract -> Main contract rev 2",
            "original_amount: 3500.00 -> 4000.00",
            "line 0100: amount 1000.00 -> 1200.00",
            "line 0300 added (300.00)",
        ])
    }

    @Test func removedLinesAndNestedFields() {
        let old = ContentHash.comparable(Fixtures.contract(job: "24-1017", amounts: ["1000.00", "2500.00"]))
        var contract = Fixtures.contract(job: "24-1017", amounts: ["1000.00"], total: "1000.00")
        guard case .primeContract(var prime) = contract else { return }
        prime.customer.name = "New Owner LLC"
        contract = .primeContract(prime)
        let changes = DocumentChanges.describe(from: old, to: ContentHash.comparable(contract))
        #expect(changes == [
            "customer.name: Owner of 24-1017 -> New Owner LLC",
            "original_amount: 3500.00 -> 1000.00",
            "line 0200 removed (was 2500.00)",
        ])
    }

    @Test func changeOrderMarkupsAndTotals() throws {
        let old = ContentHash.comparable(Fixtures.changeOrder(job: "24-1017"))
        guard case .changeOrder(var order) = Fixtures.changeOrder(job: "24-1017") else { return }
        order.markups[1].percent = try Percent.parse("3.5")
        order.computed?.grandTotal = Fixtures.money("3658.73")
        let changes = DocumentChanges.describe(from: old, to: ContentHash.comparable(.changeOrder(order)))
        #expect(changes.contains("markup Fee: percent 3 -> 3.5"))
        #expect(changes.contains("computed.grand_total: 3641.05 -> 3658.73"))
        #expect(DocumentChanges.describe(from: old, to: old).isEmpty)
    }
}
