import Foundation
import SOVTestSupport
import SOVCore
import Testing

/// Inputs that are missing, unusable or partly bad, through the built executables; help and
/// usage; standard input.
struct MalformedInputTests {
    static let stages: [(name: String, arguments: [String])] = [
        ("sov-parse", []), ("sov-validate", []), ("sov-markup", []),
        ("sov-emit", ["--to", "procore"]), ("sov-emit", ["--to", "spectrum"]), ("sov-run", []),
    ]

    @Test(arguments: stages.indices)
    func aMissingInputExits66AndNamesThePath(_ index: Int) throws {
        let folder = TemporaryFolder()
        let stage = Self.stages[index]
        let missing = folder.file("no-such-export.csv")
        var arguments = stage.arguments
        if stage.name == "sov-run" { arguments += ["--ledger", folder.file("ledger.sqlite"), "--out", folder.file("out")] }
        let outcome = try Tool.run(stage.name, arguments + [missing])
        #expect(outcome.status == 66, "\(stage.name): \(outcome.stderr)")
        #expect(outcome.stdout.isEmpty)
        #expect(outcome.stderrLines.contains { $0.hasPrefix("\(stage.name): error: \(missing): ") }, "\(outcome.stderr)")
    }

    @Test func aDocumentWithADoctypeIsUnusableAsAWhole() throws {
        let parse = try Tool.run("sov-parse", ["Tests/Fixtures/spectrum/doctype.xml"])
        #expect(parse.status == 65)
        #expect(parse.stdout.isEmpty)
        #expect(parse.stderrLines.first?.hasPrefix("Tests/Fixtures/spectrum/doctype.xml:3: error: [FMT007] the document has a DOCTYPE") == true)
        #expect(parse.stderrLines.contains("sov-parse: error: Tests/Fixtures/spectrum/doctype.xml: unusable as a whole; nothing from it is used"))

        // Next to a good input, the good one still goes through; the status is the worse one.
        let mixed = try Tool.run("sov-parse", ["samples/spectrum/GetJobMain.xml", "samples/spectrum/sov-2040.xml", "Tests/Fixtures/spectrum/doctype.xml"])
        #expect(mixed.status == 65)
        #expect(try mixed.jsonLines().map { $0.text("origin", "job") } == ["24-2040"])

        // sov-run names the file and why.
        let folder = TemporaryFolder()
        let run = try Tool.run("sov-run", ["--ledger", folder.file("ledger.sqlite"), "--out", folder.file("out"), "Tests/Fixtures/spectrum/doctype.xml"])
        #expect(run.status == 65)
        #expect(run.stderrLines.contains { $0.hasPrefix("Tests/Fixtures/spectrum/doctype.xml:3: error: [FMT007] the document has a DOCTYPE") }, "\(run.stderr)")
        #expect(run.stderrLines.contains("sov-run: error: Tests/Fixtures/spectrum/doctype.xml: unusable as a whole; nothing from it is used"), "the path once")
    }

    /// sov-parse writes into a file (or /dev/null) as it reads and cuts a failing input's
    /// documents off again; into a pipe it holds them. The two give the same bytes, statuses and
    /// messages, and a file appended to is held like a pipe.
    @Test func anInputFailingHalfwayIsCutOffAFileAsItIsHeldFromAPipe() throws {
        let folder = TemporaryFolder()
        let header = "Company_Code,Job_Number,Customer_Code,Job_Description,Original_Contract,Billing_Item,Line_Amount\n"
        let good = folder.write("good.csv", header + "1,24-7001,OWN900,A,100.00,01,100.00\n1,24-7002,OWN900,B,50.00,01,50.00\n")
        // 400 contracts read (past the output's 64 KB buffer, so some reach the file), then a
        // quote that never ends: unusable as a whole.
        let contracts = (0..<400).map { "1,24-\(7100 + $0),OWN900,C,75.00,01,75.00\n" }.joined()
        let bad = folder.write("bad.csv", header + contracts + "1,24-7600,\"OWN")
        let later = folder.write("later.csv", header + "1,24-7201,OWN900,E,10.00,01,10.00\n")
        let inputs = [good, bad, later]

        let piped = try Tool.runShell(#""$1" "${@:3}" | cat > "$2""#, [Checkout.executable("sov-parse"), folder.file("piped.jsonl")] + inputs)
        let filed = try Tool.runShell(#""$1" "${@:3}" > "$2""#, [Checkout.executable("sov-parse"), folder.file("filed.jsonl")] + inputs)
        // Appending: the file's earlier content stays, and it is held as for a pipe.
        let earlier = "{\"kind\":\"earlier\"}\n"
        folder.write("appended.jsonl", earlier)
        let appended = try Tool.runShell(#""$1" "${@:3}" >> "$2""#, [Checkout.executable("sov-parse"), folder.file("appended.jsonl")] + inputs)
        let discarded = try Tool.runShell(#""$1" "${@:2}" > /dev/null"#, [Checkout.executable("sov-parse")] + inputs)

        let pipedText = try String(contentsOfFile: folder.file("piped.jsonl"), encoding: .utf8)
        let jobs = pipedText.split(separator: "\n").map { try? JSONParser.parse(String($0)).text("origin", "job") }
        #expect(jobs == ["24-7001", "24-7002", "24-7201"], "nothing of bad.csv")
        #expect(try String(contentsOfFile: folder.file("filed.jsonl"), encoding: .utf8) == pipedText)
        #expect(try String(contentsOfFile: folder.file("appended.jsonl"), encoding: .utf8) == earlier + pipedText)
        for outcome in [piped, filed, appended, discarded] {
            // bash's status is sov-parse's (the last command, or the pipeline's last: cat's).
            #expect(outcome.stderr == filed.stderr)
        }
        #expect(filed.status == 65)
        #expect(discarded.status == 65)
        #expect(appended.status == 65)
        #expect(filed.stderrLines.contains { $0.hasPrefix("sov-parse: error: \(bad): ") && $0.hasSuffix("(399 documents read before the problem dropped)") }, "\(filed.stderr)")
        #expect(filed.stderrLines.last == "sov-parse: 3 in, 3 out, 0 rejected")
    }

    @Test func aCSVRowWithTheWrongFieldCountIsRejectedAndTheRestGoesOn() throws {
        let folder = TemporaryFolder()
        let csv = folder.write("contracts.csv", """
            Company_Code,Job_Number,Customer_Code,Job_Description,Original_Contract,Billing_Item,Line_Amount
            1,24-7001,OWN900,A,100.00,01,100.00
            1,24-7002,OWN900,B,50.00,01
            1,24-7003,OWN900,C,75.00,01,75.00

            """)
        let parse = try Tool.run("sov-parse", ["--rejects", folder.file("rejects.jsonl"), csv])
        #expect(parse.status == 1)
        #expect(parse.stderrLines.first == "\(csv):3: error: [FMT007] record has 6 fields, the header has 7 (record 3, byte 133)")
        #expect(parse.stderrLines.last == "sov-parse: 3 in, 2 out, 1 rejected (FMT007 1)")
        #expect(try parse.jsonLines().map { $0.text("origin", "job") } == ["24-7001", "24-7003"])
        let rejects = try folder.jsonLines("rejects.jsonl")
        #expect(rejects.count == 1)
        // The raw row is kept, so nothing is lost.
        #expect(rejects.first?.text.contains("24-7002") == true)
        #expect(rejects.first?["diagnostics"]?.array.first?.text("line") == "3")
    }

    @Test func aMalformedCanonicalLineIsRejectedWithFMT009() throws {
        let folder = TemporaryFolder()
        let good = try Tool.run("sov-parse", ["samples/spectrum/GetJobMain.xml", "samples/spectrum/sov-2040.xml"]).stdout
        let input = Data("{\"kind\":\"prime_contract\",\n".utf8) + good
        let validate = try Tool.run("sov-validate", ["--project-map", "samples/project-map.csv", "--rejects", folder.file("rejects.jsonl")], stdin: input)
        #expect(validate.status == 1)
        #expect(validate.stderrLines.first?.hasPrefix("<stdin>:1: error: [FMT009] not a JSON line") == true)
        #expect(validate.stderrLines.last == "sov-validate: 2 in, 1 out, 1 rejected (FMT009 1)")
        #expect(try validate.jsonLines().map { $0.text("origin", "job") } == ["24-2040"])
        let rejects = try folder.jsonLines("rejects.jsonl")
        #expect(rejects.count == 1)
        #expect(rejects.first?["diagnostics"]?.array.first?.text("code") == "FMT009")
        #expect(rejects.first?.text.contains("{\\\"kind\\\":\\\"prime_contract\\\",") == true, "the raw line is kept")
    }

    @Test(arguments: ["sov-validate", "sov-markup", "sov-emit"])
    func anUnknownSchemaVersionIsRefusedWithAClearMessage(_ stage: String) throws {
        let good = try Tool.run("sov-parse", ["samples/spectrum/GetJobMain.xml", "samples/spectrum/sov-2040.xml"]).stdout
        let future = Data(String(decoding: good, as: UTF8.self).replacingOccurrences(of: "\"schema\":1", with: "\"schema\":2").utf8)
        let outcome = try Tool.run(stage, stage == "sov-emit" ? ["--to", "procore", "--project-map", "samples/project-map.csv"] : [], stdin: future)
        #expect(outcome.status == 65)
        #expect(outcome.stdout.isEmpty)
        #expect(outcome.stderrLines.first == "\(stage): error: <stdin>:1: unknown canonical schema version 2; this SOVBridge reads version 1: produce the input with the same SOVBridge version")
    }

    @Test(arguments: ["sov-parse", "sov-validate", "sov-markup", "sov-emit", "sov-run", "sov-watch"])
    func helpExitsZeroAndListsTheExitCodes(_ name: String) throws {
        let help = try Tool.run(name, ["--help"])
        #expect(help.status == 0)
        #expect(help.stdoutText.contains("USAGE: \(name)"))
        // Help is wrapped at the terminal width: compare with the line breaks taken out.
        let text = help.stdoutText.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(text.contains("0 all"), "\(name) names exit status 0")
        #expect(text.contains("64 usage"), "\(name) names exit status 64")
        #expect(text.contains(" rejected"), "\(name) names exit status 1")
        #expect(text.contains("70 internal error") || text.contains("74 I/O error"), "\(name) names its failure statuses")
    }

    @Test(arguments: [
        ("sov-parse", ["--encoding", "latin-9", "samples/spectrum/jobs.csv"], "--encoding must be utf-8 or windows-1252, not 'latin-9'"),
        ("sov-parse", ["--no-such-option"], "Unknown option '--no-such-option'"),
        ("sov-emit", [], "Missing expected argument '--to <to>'"),
        ("sov-emit", ["--to", "oracle"], "oracle"),
        ("sov-run", [], "no inputs"),
    ])
    func aWrongCommandLineExits64AndSaysWhy(_ name: String, _ arguments: [String], _ reason: String) throws {
        let outcome = try Tool.run(name, arguments)
        #expect(outcome.status == 64)
        #expect(outcome.stdout.isEmpty)
        #expect(outcome.stderr.contains(reason), "\(outcome.stderr)")
    }

    @Test func standardInputIsReadLikeAFileNamedStdin() throws {
        let xml = try #require(FileManager.default.contents(atPath: Checkout.path("samples/spectrum/GetJobMain.xml")))
        let fromFile = try Tool.run("sov-parse", ["samples/spectrum/GetJobMain.xml"])
        let fromStdin = try Tool.run("sov-parse", [], stdin: xml)
        let fromDash = try Tool.run("sov-parse", ["-"], stdin: xml)
        #expect(fromFile.status == 0)
        #expect(fromStdin.status == 0)
        #expect(fromDash.status == 0)
        #expect(fromStdin.stderrLines == ["sov-parse: 1 in, 1 out, 0 rejected"])
        let fileText = fromFile.stdoutText
        #expect(fileText.contains("\"file\":\"samples/spectrum/GetJobMain.xml\""))
        #expect(fromStdin.stdoutText == fileText.replacingOccurrences(of: "\"file\":\"samples/spectrum/GetJobMain.xml\"", with: "\"file\":\"<stdin>\""))
        #expect(fromDash.stdout == fromStdin.stdout)
        let document = try #require(try fromStdin.jsonLines().first)
        #expect(document.text("source", "file") == "<stdin>")
        #expect(document.text("origin", "job") == "24-2040")
        #expect(document.text("original_amount") == "3175400.00")

        // `-` among files: the SOV rows come on stdin and join the header from the file.
        let rows = try #require(FileManager.default.contents(atPath: Checkout.path("samples/spectrum/sov-2040.xml")))
        let joined = try Tool.run("sov-parse", ["samples/spectrum/GetJobMain.xml", "-"], stdin: rows)
        #expect(joined.status == 0)
        let contract = try #require(try joined.jsonLines().first)
        #expect(contract.text("source", "file") == "samples/spectrum/GetJobMain.xml")
        #expect(contract["lines"]?.array.count == 8)
        #expect(contract["lines"]?.array.allSatisfy { $0.text("source", "file") == "<stdin>" } == true)

        // And a stage that reads canonical JSON Lines on stdin.
        let validate = try Tool.run("sov-validate", ["--project-map", "samples/project-map.csv"], stdin: joined.stdout)
        #expect(validate.status == 0)
        #expect(try validate.jsonLines().first?.text("procore", "project_id") == "2810077")
    }
}
