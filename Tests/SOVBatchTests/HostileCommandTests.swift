import Foundation
import SOVTestSupport
import SOVCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The built `sov-parse` on hostile files: each ends with a documented exit code (65: the input
/// unusable as a whole; 1: records rejected) and a message naming the file, and the line where
/// there is one; nothing on stdout, a bounded stderr, no hang.
@Suite(.serialized)
struct HostileCommandTests {
    struct Case: CustomStringConvertible, Sendable {
        var name: String
        var bytes: @Sendable () -> [UInt8]
        var status: Int32
        /// Expected in stderr after the file's path (`:2: error: [FMT007] ...`).
        var message: String

        var description: String { name }
    }

    static func text(_ text: String) -> @Sendable () -> [UInt8] { { Array(text.utf8) } }

    static let flatHeader = "Company_Code,Job_Number,Customer_Code,Contract_Number,Job_Description,Price_Method_Code,Original_Contract,Billing_Item,Billing_Description,Item_Original_Contract\n"

    static func garbage(seed: UInt64, first: UInt8?) -> [UInt8] {
        var state = seed
        var bytes = (0..<65_536).map { _ -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
        if let first { bytes[0] = first }
        return bytes
    }

    static let cases: [Case] = [
        Case(name: "doctype-external-entity.xml",
             bytes: text("<?xml version=\"1.0\"?>\n<!DOCTYPE rows [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<rows><row><Job_Number>&x;</Job_Number></row></rows>\n"),
             status: 65, message: ":3: error: [FMT007] the document has a DOCTYPE"),
        Case(name: "entity-expansion.xml",
             bytes: text("<?xml version=\"1.0\"?>\n<!DOCTYPE rows [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]>\n<rows><row><Job_Number>&c;&c;&c;&c;&c;&c;&c;&c;</Job_Number></row></rows>\n"),
             status: 65, message: ":3: error: [FMT007] the document has a DOCTYPE"),
        Case(name: "deep-nesting.xml",
             bytes: text("<?xml version=\"1.0\"?>\n" + String(repeating: "<a>", count: 100_000) + String(repeating: "</a>", count: 100_000) + "\n"),
             status: 65, message: ":2: error: [FMT007] malformed XML: Excessive depth in document: 256"),
        Case(name: "ten-megabyte-text-node.xml",
             bytes: text("<rows>\n<row><Job_Number>" + String(repeating: "x", count: 10 << 20) + "</Job_Number></row>\n</rows>\n"),
             status: 65, message: ":2: error: [FMT007] more than 4194304 bytes without an element starting or ending"),
        Case(name: "truncated.xml",
             bytes: text("<rows>\n<row><Job_Number>24-1</Job_Number><Billing_Item>01</Billing_Item></row>\n<row><Job_Number>24-1</Job_Number><Bill"),
             status: 65, message: ":3: error: [FMT007] malformed XML: "),
        Case(name: "truncated.csv",
             bytes: text(flatHeader + "1,24-1,OWN1,PC-1,\"Job one"),
             status: 65, message: ":2: error: [FMT007] unterminated quoted field (the quote opened on line 2)"),
        Case(name: "garbage.bin", bytes: { garbage(seed: 1, first: nil) }, status: 65,
             message: ":1: error: [FMT008] the header row cannot be read: NUL byte in a field"),
        Case(name: "garbage-after-lt.bin", bytes: { garbage(seed: 2, first: UInt8(ascii: "<")) }, status: 65,
             message: ":1: error: [FMT"),
        Case(name: "garbage-after-brace.bin", bytes: { garbage(seed: 3, first: UInt8(ascii: "{")) }, status: 65,
             message: ":1: error: [FMT010] malformed JSON at column 2: "),
        Case(name: "empty.csv", bytes: text(""), status: 65, message: ": the input is empty (no header row, no records)"),
        Case(name: "invalid-utf8.csv",
             bytes: { Array((flatHeader + "1,24-1,OWN1,PC-1,Job ").utf8) + [0xFF] + Array(",F,1.00,01,W,1.00\n".utf8) },
             status: 1, message: ":2: error: [FMT008] invalid UTF-8 (byte 0xFF)"),
        Case(name: "invalid-utf8.xml",
             bytes: { Array("<rows>\n<row><Job_Number>24".utf8) + [0xC0, 0xAF] + Array("</Job_Number></row>\n</rows>\n".utf8) },
             status: 65, message: ":2: error: [FMT008] malformed XML: "),
        Case(name: "undecodable-in-declared-encoding.xml",
             bytes: { Array("<?xml version=\"1.0\" encoding=\"windows-1252\"?>\n<rows><row><Job_Number>24".utf8) + [0x81] + Array("</Job_Number></row></rows>\n".utf8) },
             status: 65, message: ":2: error: [FMT008] malformed XML: bytes that the document's declared encoding cannot decode"),
        Case(name: "nul.csv",
             bytes: text(flatHeader + "1,24-1,OWN1,PC-1,Job\u{0},F,1.00,01,W,1.00\n"),
             status: 1, message: ":2: error: [FMT008] NUL byte in a field"),
        Case(name: "ten-megabyte-line.csv",
             bytes: text(flatHeader + "1,24-1,OWN1,PC-1," + String(repeating: "j", count: 10 << 20) + ",F,1.00,01,W,1.00\n"),
             status: 65, message: ":2: error: [FMT007] record longer than 1048576 bytes"),
        Case(name: "ten-megabyte-header.csv",
             bytes: text(String(repeating: "h", count: 10 << 20) + "\n1\n"),
             status: 65, message: ":1: error: [FMT007] the header row cannot be read: record longer than 1048576 bytes"),
        Case(name: "forty-digits.csv",
             bytes: text(flatHeader + "1,24-1,OWN1,PC-1,Job,F," + String(repeating: "9", count: 40) + ".00,01,W," + String(repeating: "9", count: 40) + ".00\n"),
             status: 1, message: ":2: error: [FMT001] Original_Contract: '9999999999999999999999999999999999999999.00' is too large for an amount"),
        Case(name: "deep-nesting.json",
             bytes: text(String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)),
             status: 65, message: ":1: error: [FMT010] malformed JSON at column 257: nesting deeper than 256 levels"),
        Case(name: "invalid-utf8.json",
             bytes: { Array("{\n\"title\": \"a".utf8) + [0xED, 0xA0, 0x80] + Array("\"}".utf8) },
             status: 65, message: ":2: error: [FMT010] malformed JSON at column 10: invalid UTF-8 in a string"),
        Case(name: "forty-digits.json",
             bytes: text(#"{"prime_contract_change_order":{"number":"1","status":"approved"},"prime_contract_change_order_items":[{"total_amount":"# + String(repeating: "9", count: 40) + "}]}"),
             status: 1, message: ":1: error: [FMT001] "),
    ]

    @Test("sov-parse on a hostile file: documented exit code, the file (and line) named", arguments: cases)
    func hostileFile(_ hostile: Case) throws {
        let folder = TemporaryFolder()
        let path = folder.file(hostile.name)
        #expect(FileManager.default.createFile(atPath: path, contents: Data(hostile.bytes())))
        let outcome = try Executables.run("sov-parse", [path])
        #expect(outcome.status == hostile.status, "\(outcome.stderr.prefix(500))")
        #expect(outcome.stdout.isEmpty)
        #expect(outcome.stderr.contains(path + hostile.message), "\(outcome.stderr.prefix(500))")
        // One refusal or rejection, stated briefly: stderr does not echo the hostile bytes, and
        // every line of it names the file or is sov-parse's own (libxml2 prints nothing).
        #expect(outcome.stderr.utf8.count < 4096)
        for line in outcome.stderr.split(separator: "\n") {
            #expect(line.hasPrefix(path) || line.hasPrefix("sov-parse: "), "\(line)")
        }
    }

    @Test("on standard input the same refusal names <stdin>")
    func hostileStdin() throws {
        let outcome = try Executables.run("sov-parse", [], stdin: Data(String(repeating: "[", count: 100_000).utf8))
        #expect(outcome.status == 65)
        #expect(outcome.stderr.contains("<stdin>:1: error: [FMT010] malformed JSON at column 257: nesting deeper than 256 levels"))
    }

    /// libxml2 asked to read an external entity, a parameter entity or an external DTD would open
    /// the named FIFO and block there until a writer comes; so while sov-parse runs, this test
    /// keeps trying to open the FIFO's other end without blocking, which succeeds only once a
    /// reader has it open. sov-parse must finish (65) without that ever happening.
    @Test("no external resource is ever opened: entity, parameter entity, external DTD", arguments: [
        #"<!DOCTYPE rows [<!ENTITY x SYSTEM "FIFO">]><rows><row><Job_Number>&x;</Job_Number></row></rows>"#,
        #"<!DOCTYPE rows [<!ENTITY % p SYSTEM "FIFO"> %p;]><rows><row><Job_Number>1</Job_Number></row></rows>"#,
        #"<!DOCTYPE rows SYSTEM "FIFO"><rows><row><Job_Number>1</Job_Number></row></rows>"#,
    ])
    func externalResourcesNeverOpened(_ template: String) throws {
        let folder = TemporaryFolder()
        let fifo = folder.file("secret.fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let input = folder.write("xxe.xml", "<?xml version=\"1.0\"?>\n" + template.replacing("FIFO", with: "file://" + fifo) + "\n")
        let run = try ChildProcess(Executables.path("sov-parse"), [input])
        var opened = false
        while run.isRunning {
            let fd = open(fifo, O_WRONLY | O_NONBLOCK)
            if fd >= 0 {
                opened = true
                close(fd)  // the reader sees the end of the file and goes on
                break
            }
            usleep(2_000)
        }
        let outcome = try run.wait()
        #expect(!opened, "sov-parse opened \(fifo)")
        #expect(outcome.status == 65)
        #expect(outcome.stderr.contains(input + ":"))
        #expect(outcome.stderr.contains("DOCTYPE"))
    }

    // MARK: Closed pipes

    /// Flat contract exports: `contracts` contracts of 100 SOV lines that add up.
    static func flatExport(contracts: Int) -> (csv: String, map: String) {
        var csv = flatHeader
        var map = "company,job,customer,project_id,prime_contract_id\n"
        for contract in 1...contracts {
            let job = "J-\(contract)"
            for line in 1...100 {
                csv += "1,\(job),OWN1,PC-\(contract),Job \(contract),F,10000.00,\(line),Work package \(line),100.00\n"
            }
            map += "1,\(job),OWN1,\(1000 + contract),\(5000 + contract)\n"
        }
        return (csv, map)
    }

    @Test("sov-parse big.csv | head -1 ends quietly with status 0")
    func parseIntoClosedPipe() throws {
        let folder = TemporaryFolder()
        let export = HostileCommandTests.flatExport(contracts: 200)
        let input = folder.write("big.csv", export.csv)
        let run = try ChildProcess(Executables.path("sov-parse"), [input], streamsStdout: true)
        let first = run.readLine()
        #expect(first.hasPrefix("{\"kind\":\"prime_contract\""))
        run.closeStdout()
        let outcome = try run.wait()
        #expect(outcome.status == 0)
        #expect(outcome.stderr.isEmpty)
    }

    @Test("every stage ends quietly with 0 on a closed pipe; sov-run says what was not delivered and exits 74")
    func stagesIntoClosedPipe() throws {
        let folder = TemporaryFolder()
        let export = HostileCommandTests.flatExport(contracts: 60)
        let input = folder.write("big.csv", export.csv)
        let map = folder.write("map.csv", export.map)
        func stage(_ name: String, _ arguments: [String], stdin: String? = nil) throws -> (first: String, outcome: ProcessOutcome) {
            let run = try ChildProcess(Executables.path(name), arguments, stdin: stdin.flatMap(FileManager.default.contents(atPath:)), streamsStdout: true)
            let first = run.readLine()
            run.closeStdout()
            return (first, try run.wait())
        }
        // Whole outputs of each stage, to feed the next one from a file.
        let parsed = try Executables.run("sov-parse", [input])
        let parsedPath = folder.write("parsed.jsonl", parsed.stdout)
        let validated = try Executables.run("sov-validate", ["--project-map", map, parsedPath])
        #expect(validated.status == 0, "\(validated.stderr.prefix(300))")
        let validatedPath = folder.write("validated.jsonl", validated.stdout)
        let marked = try Executables.run("sov-markup", [validatedPath])
        let markedPath = folder.write("marked.jsonl", marked.stdout)

        for (name, arguments, stdin) in [
            ("sov-validate", ["--project-map", map, parsedPath], nil),
            ("sov-validate", ["--project-map", map], parsedPath),
            ("sov-markup", [validatedPath], nil),
            ("sov-emit", ["--to", "procore", markedPath], nil),
        ] as [(String, [String], String?)] {
            let (first, outcome) = try stage(name, arguments, stdin: stdin)
            #expect(first.hasPrefix("{\"kind\":\"prime_contract\""), "\(name)")
            #expect(outcome.status == 0, "\(name): \(outcome.stderr.prefix(300))")
            #expect(outcome.stderr.isEmpty, "\(name)")
        }

        // sov-run keeps a ledger: what it could not deliver is not recorded, so it is exported
        // again next time, and the run is not reported as complete.
        let ledger = folder.file("ledger.sqlite")
        let (first, outcome) = try stage("sov-run", ["--project-map", map, "--ledger", ledger, input])
        #expect(first.hasPrefix("{\"kind\":\"prime_contract\""))
        #expect(outcome.status == 74)
        #expect(outcome.stderr.contains("standard output was closed; the documents not written were not recorded"))
    }
}
