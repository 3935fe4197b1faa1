import Foundation
import SOVTestSupport
import Testing

@testable import SOVCore

#if canImport(Glibc)
import Glibc
#endif

/// Issue 16 (hostile and careless inputs, round two), the SOVCore items.
@Suite struct HostileRoundTwoCoreTests {
    /// Seconds `body` takes on the monotonic clock.
    private static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    @Test("\"1000.<N zeros>\" parses in linear time: 400,000 zeros well under a second")
    func moneyParsingIsLinear() throws {
        let text = "1000." + String(repeating: "0", count: 400_000)
        var parsed: Money?
        let elapsed = try Self.seconds { parsed = try Money.parseExact(text) }
        #expect(parsed?.minorUnits == 100_000)
        // The quadratic trim took 35 s at 100,000 zeros.
        #expect(elapsed < 1.0, "took \(elapsed) s")
        // Significant digits past the cents are still refused, however long the text.
        #expect(throws: MoneyParseError.self) { try Money.parseExact("1000." + String(repeating: "0", count: 100_000) + "1") }
        #expect(try Percent.parse("3." + String(repeating: "0", count: 200_000)) == Percent.parse("3"))
    }

    @Test("an object repeating a key is refused, naming the key, line and column")
    func duplicateJSONKeys() throws {
        let error = try #require(throws: JSONParseError.self) {
            try JSONParser.parse(#"{"number": "7", "status": "approved",\n "status": "draft"}"#.replacingOccurrences(of: "\\n", with: "\n"))
        }
        #expect(error.duplicateKey == "status")
        #expect(error.message.contains("duplicate key \"status\""))
        #expect(error.line == 2)
        // Many keys stay linear (the check moves to a set past 32 members), and any repeat is found.
        var members = (0..<50_000).map { "\"k\($0)\": \($0)" }
        #expect(try JSONParser.parse("{" + members.joined(separator: ",") + "}").members?.count == 50_000)
        members.append("\"k49\": 0")
        #expect(throws: JSONParseError.self) { try JSONParser.parse("{" + members.joined(separator: ",") + "}") }
        // The same key in different objects is fine.
        #expect(throws: Never.self) { try JSONParser.parse(#"[{"a":1},{"a":2},{"b":{"a":3}}]"#) }
    }

    @Test("a malformed record with no line end fails the input after a bound instead of scanning on")
    func runawayMalformedRecord() throws {
        // /dev/zero through a pipe, in small: a NUL at once, and no line end past the bound
        // (a sparse file: zeros that take no memory or disk).
        let scratch = TemporaryFolder()
        let path = scratch.write("zeros.csv", "")
        #expect(truncate(path, off_t(CSVReader.maximumSkippedBytes + (1 << 20))) == 0)
        let reader = CSVReader(try InputFile(path: path))
        var items: [CSVReader.Item] = []
        while let item = try reader.next() { items.append(item) }
        #expect(items.count == 1)
        guard case .malformed(let problem)? = items.first else {
            Issue.record("expected a malformed record, got \(items)")
            return
        }
        #expect(problem.fatal)
        #expect(problem.code == .FMT008)
        #expect(problem.message.contains("no line end follows within 64 KB"))
        #expect(problem.raw?.count == CSVReader.maximumRawBytes)
        #expect(problem.line == 1)
        // A malformed record whose line does end is still one reject, and the file goes on.
        let bounded = scratch.write("bounded.csv", "a,b\n1,\u{0}2\n3,4\n")
        let again = CSVReader(try InputFile(path: bounded))
        var kinds: [String] = []
        while let item = try again.next() {
            if case .record = item { kinds.append("record") } else if case .malformed(let problem) = item { kinds.append(problem.fatal ? "fatal" : "malformed") }
        }
        #expect(kinds == ["record", "malformed", "record"])
    }

    @Test("a FIFO or a device named as an input is refused (66) without blocking; standard input stays allowed")
    func specialFilesRefused() throws {
        let scratch = TemporaryFolder()
        let fifo = scratch.file("fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let failure = try #require(throws: IOFailure.self) { try InputFile(path: fifo) }
        #expect(failure.status == .noInput)
        #expect(failure.message.contains("FIFO"))
        let device = try #require(throws: IOFailure.self) { try InputFile(path: "/dev/zero") }
        #expect(device.status == .noInput)
        #expect(device.message.contains("character device"))
        #expect(try InputFile(path: "-").name == "<stdin>")
        // A configuration given as <(command) is a pipe: allowed where asked for.
        #expect(throws: Never.self) { _ = try InputFile(path: "/dev/null", specialFiles: true) }
    }

    @Test("with links not followed, a symbolic link is refused when opened (O_NOFOLLOW)")
    func linksRefusedWhenAsked() throws {
        let scratch = TemporaryFolder()
        let target = scratch.write("secret.csv", "secret\n")
        let link = target + ".link"
        #expect(symlink(target, link) == 0)
        let failure = try #require(throws: IOFailure.self) { try InputFile(path: link, followingLinks: false) }
        #expect(failure.status == .noInput)
        #expect(failure.message.contains("symbolic link"))
        #expect(throws: Never.self) { _ = try InputFile(path: link) }
    }

    @Test("a project map with an unknown column is refused, naming it and the column meant")
    func projectMapUnknownColumn() throws {
        let scratch = TemporaryFolder()
        let path = scratch.write("map.csv", "company,job,cust,project_id\n1,24-1017,OWN100,2783451\n")
        let problem = try #require(throws: Diagnostic.self) { try ProjectMap.load(path) }
        #expect(problem.code == .FMT004)
        #expect(problem.message.contains("unknown column 'cust'"))
        #expect(problem.message.contains("did you mean 'customer'"))
        #expect(problem.location.file == path)
        #expect(problem.location.line == 1)
        // The documented columns, in any case and order, and a trailing delimiter, still load.
        let good = scratch.write("good.csv", "Project_ID,JOB,Customer,company,prime_contract_id,\n2783451,24-1017,OWN100,1,31504417,\n")
        #expect(try ProjectMap.load(good).mappings.first?.customer == "OWN100")
    }

    @Test("-q hides diagnostics, never the reason for a fatal exit")
    func quietStillSaysWhy() throws {
        let scratch = TemporaryFolder()
        let log = scratch.file("stderr.log")
        let sink = try OutputSink(creating: log)
        let report = StageReport(stage: "sov-parse", human: sink, quiet: true)
        report.say("a diagnostic")
        try report.fail(.dataError, "in.csv is unusable as a whole", diagnostics: [.error(.FMT004, "the header has no column Job_Number", at: SourceLocation(file: "in.csv", line: 1))])
        try sink.flush()
        let text = try String(contentsOfFile: log, encoding: .utf8)
        #expect(!text.contains("a diagnostic"))
        #expect(text.contains("in.csv:1: error: [FMT004] the header has no column Job_Number"))
        #expect(text.contains("sov-parse: error: in.csv is unusable as a whole"))
    }
}
