
#if canImport(Glibc)
import Foundation
import Glibc
import SOVBatch
import SOVCore
import SOVFrontEnd
import SOVTestSupport
import Testing
#endif

struct ConfigurationTests {
    @Test func aConfigFileHoldsAnyOptionAndFlagsWin() throws {
        let folder = TemporaryFolder()
        let config = folder.write("nightly/sov.json", """
            {"inputs": ["exports", "/abs/extra.csv"], "encoding": "windows-1252", "project_map": "map.csv",
             "markups": "markups.toml", "ledger": "state/ledger.sqlite", "out": "out", "rejects": "rejects.jsonl",
             "report": "/var/www/report.html", "dry-run": true, "interval": 30}
            """)
        let fromFile = try BatchSettings.load(configFile: config)
        let base = folder.file("nightly")
        #expect(fromFile.paths(.inputs) == [base + "/exports", "/abs/extra.csv"])
        #expect(fromFile.text(.projectMap) == base + "/map.csv")
        #expect(fromFile.text(.ledger) == base + "/state/ledger.sqlite")
        #expect(fromFile.text(.report) == "/var/www/report.html")
        #expect(fromFile.number(.interval) == 30)

        let flags = BatchSettings([.inputs: .paths(["today.csv"]), .ledger: .text("other.sqlite"), .dryRun: .flag(false)])
        let options = try flags.over(fromFile).options()
        #expect(options.inputs == ["today.csv"])
        #expect(options.ledger == "other.sqlite")
        #expect(options.dryRun == false)
        #expect(options.encoding == .windows1252)
        #expect(options.out == base + "/out")
        #expect(options.markups == base + "/markups.toml")
    }

    @Test func defaults() throws {
        let options = try BatchSettings().options()
        #expect(options.ledger == "sovbridge-ledger.sqlite")
        #expect(options.out == nil)
        #expect(options.dryRun == false)
        #expect(options.encoding == nil)
    }

    @Test(arguments: [
        (#"{"outt": "x"}"#, "c.json: unknown key 'outt'; known keys: inputs, encoding, delimiter, profile, procore_markups, project_map, markups, prime_contract_status, ledger, out, rejects, report, report_csv, dry_run, quiet, interval, [spectrum], [procore]"),
        (#"{"spectrum": {"cr_stat": "AP"}}"#, "c.json: unknown key 'cr_stat' in [spectrum]; known keys there: authorization_id, cr_status"),
        (#"{"spectrum": 1}"#, "'spectrum' must be a table"),
        (#"{"encoding": "latin-9"}"#, "c.json: unknown encoding 'latin-9'"),
        (#"{"dry_run": "yes"}"#, "'dry_run' must be true or false"),
        (#"{"ledger": 3}"#, "'ledger' must be a non-empty string"),
        (#"{"interval": 0}"#, "'interval' must be a whole number"),
        (#"{"inputs": [1]}"#, "'inputs' must be a list of paths"),
        (#"[1, 2]"#, "must be a table of options"),
    ])
    func refusesWhatItDoesNotKnow(json: String, message: String) throws {
        let value = try JSONParser.parse(json)
        do throws(OptionsError) {
            _ = try BatchSettings.parse(value, name: "c.json", base: ".")
            Issue.record("expected a usage error")
        } catch {
            #expect(error.status == .usage)
            #expect(error.message.contains(message))
        }
    }

    /// The documented spelling is `project_map`; `project-map` (the flag's) is read the same.
    @Test func keysMayBeSpeltWithUnderscoresOrHyphens() throws {
        let underscores = try BatchSettings.parse(JSONParser.parse(#"{"project_map": "m.csv", "dry_run": true}"#), name: "c.json", base: ".")
        let hyphens = try BatchSettings.parse(JSONParser.parse(#"{"project-map": "m.csv", "dry-run": true}"#), name: "c.json", base: ".")
        #expect(underscores == hyphens)
        #expect(underscores.text(.projectMap) == "m.csv")
        #expect(underscores.flag(.dryRun) == true)
    }

    /// sov-emit uses only the [spectrum] table but judges the whole file as sov-run does: the
    /// same file is accepted, or refused for the same key, by every command.
    @Test func sovEmitJudgesAConfigurationAsSovRunDoes() throws {
        let shared = try JSONParser.parse(#"{"inputs": ["in"], "out": "out", "dry_run": false, "interval": 5, "spectrum": {"cr_status": "AP"}}"#)
        #expect(throws: Never.self) { try BatchSettings.check(shared, file: "c.json") }
        #expect(throws: Never.self) { try BatchSettings.parse(shared, name: "c.json", base: ".") }
        for (json, field) in [(#"{"bogus": 1}"#, "bogus"), (#"{"spectrum": {"cr_stat": "AP"}}"#, "spectrum.cr_stat"), (#"{"quiet": "yes"}"#, "quiet")] {
            let value = try JSONParser.parse(json)
            #expect(throws: OptionsError.self) { try BatchSettings.parse(value, name: "c.json", base: ".") }
            do {
                try BatchSettings.check(value, file: "c.json")
                Issue.record("\(json) must be refused")
            } catch {
                #expect(error.code == .FMT010)
                #expect(error.location.file == "c.json")
                #expect(error.location.field == field)
            }
        }
    }

    /// What sov-watch leaves to its drop folder, from a file shared with sov-run.
    @Test func runOnlyKeysAreToldApart() throws {
        let settings = try BatchSettings.parse(
            JSONParser.parse(#"{"inputs": "in", "rejects": "r.jsonl", "dry_run": false, "ledger": "l.sqlite", "interval": 9}"#), name: "c.json", base: ".")
        #expect(settings.runOnlyKeysGiven == ["inputs", "rejects", "dry_run"])
        let watched = settings.withoutRunOnlyKeys
        #expect(watched.runOnlyKeysGiven.isEmpty)
        #expect(watched == BatchSettings([.ledger: .text("l.sqlite"), .interval: .number(9)]))
    }

    @Test func unknownEncodingIsAUsageError() {
        #expect(throws: OptionsError.self) { try BatchSettings([.encoding: .text("latin-9")]).options() }
    }

    @Test func aMissingConfigFileIs66() {
        do {
            _ = try BatchSettings.load(configFile: "/nonexistent/sov.json")
            Issue.record("expected an error")
        } catch {
            #expect(error.status == .noInput)
        }
    }
}

/// The built executables (beside this test binary), run to their end.
enum Executables {
    static func path(_ name: String) -> String { Checkout.executable(name) }

    static func run(_ name: String, _ arguments: [String], stdin: Data? = nil, in directory: String? = nil) throws -> ProcessOutcome {
        try ChildProcess.run(path(name), arguments, stdin: stdin, in: directory)
    }
}

struct CommandLineTests {
    @Test func refusedCommandLinesExit64Or66AndCreateNothing() throws {
        let folder = TemporaryFolder()
        let noInputs = try Executables.run("sov-run", [], in: folder.path)
        #expect(noInputs.status == 64)
        #expect(noInputs.stderr.contains("no inputs"))
        let badEncoding = try Executables.run("sov-run", ["--encoding", "latin-9", "x.csv"], in: folder.path)
        #expect(badEncoding.status == 64)
        #expect(badEncoding.stderr.contains("--encoding must be utf-8 or windows-1252, not 'latin-9'"))
        let config = folder.write("bad.json", #"{"colour": "blue"}"#)
        let badConfig = try Executables.run("sov-run", ["--config", config, "x.csv"], in: folder.path)
        #expect(badConfig.status == 64)
        #expect(badConfig.stderr.contains("sov-run: error: \(config): unknown key 'colour'; known keys: inputs, encoding, delimiter, profile, procore_markups, project_map"))
        let missingConfig = try Executables.run("sov-run", ["--config", "nope.toml", "x.csv"], in: folder.path)
        #expect(missingConfig.status == 66)
        // sov-watch has no --out, --rejects or --dry-run (its drop folder decides): unknown options.
        for option in [["--out", "o"], ["--rejects", "r.jsonl"], ["--dry-run"]] {
            let watch = try Executables.run("sov-watch", [folder.path] + option, in: folder.path)
            #expect(watch.status == 64)
            #expect(watch.stderr.contains("Unknown option '\(option[0])'"))
        }
        // Nothing was created by refused command lines.
        #expect(folder.names(".") == ["bad.json"])
    }
}

/// One configuration file serves sov-run, sov-watch and sov-emit: each judges it whole (an
/// unknown key anywhere is exit 64, naming the file, the key and the known keys) and uses its part.
struct SharedConfigurationTests {
    @Test func everyCommandRefusesAnUnknownKeyAnywhereInTheFile() throws {
        let folder = TemporaryFolder()
        let order = folder.write("order.jsonl", Fixtures.jsonl([Fixtures.procoreChangeOrder(id: "9", job: "24-1017")]))
        let marked = try Executables.run("sov-markup", [order])
        #expect(marked.status == 0, "\(marked.stderr)")
        let input = folder.write("marked.jsonl", marked.stdout)
        let drop = folder.file("drop")
        let cases = [
            ("top.toml", "bogus = 1\n[spectrum]\ncr_status = \"AP\"\n", "unknown key 'bogus'; known keys: inputs, encoding, delimiter, profile, procore_markups, project_map, markups, prime_contract_status, ledger, out, rejects, report, report_csv, dry_run, quiet, interval, [spectrum], [procore]"),
            ("spectrum.toml", "[spectrum]\ncr_stat = \"AP\"\n", "unknown key 'cr_stat' in [spectrum]; known keys there: authorization_id, cr_status, co_status, number_prefix, layout, company, job, customer"),
        ]
        for (name, text, message) in cases {
            let config = folder.write(name, text)
            for (command, arguments) in [
                ("sov-emit", ["--to", "spectrum", "--config", config, input]),
                ("sov-emit", ["--to", "procore", "--config", config, input]),
                ("sov-run", ["--config", config, "--ledger", folder.file("ledger.sqlite"), input]),
                ("sov-watch", [drop, "--once", "--config", config]),
            ] {
                let outcome = try Executables.run(command, arguments, in: folder.path)
                #expect(outcome.status == 64, "\(command) --config \(name): \(outcome.stderr)")
                #expect(outcome.stderr.contains(config), "\(command) names the file")
                #expect(outcome.stderr.contains(message), "\(command): \(outcome.stderr)")
                #expect(outcome.stdout.isEmpty)
            }
        }
        // Refused before anything was written.
        #expect(folder.names(".") == ["marked.jsonl", "order.jsonl", "spectrum.toml", "top.toml"])
        // A file that is not TOML at all is a usage error too, for every command.
        let broken = folder.write("broken.toml", "inputs = [\n")
        for arguments in [["sov-emit", "--to", "spectrum"], ["sov-emit", "--to", "procore"], ["sov-run", "--ledger", folder.file("ledger.sqlite")]] {
            let outcome = try Executables.run(arguments[0], Array(arguments.dropFirst()) + ["--config", broken, input], in: folder.path)
            #expect(outcome.status == 64, "\(arguments): \(outcome.stderr)")
            #expect(outcome.stderr.contains("broken.toml:2"), "\(arguments): \(outcome.stderr)")
        }
    }

    @Test func sovEmitUsesTheSpectrumTableOfAFileSharedWithSovRun() throws {
        let folder = TemporaryFolder()
        let order = folder.write("order.jsonl", Fixtures.jsonl([Fixtures.procoreChangeOrder(id: "9", job: "24-1017")]))
        let input = folder.write("marked.jsonl", try Executables.run("sov-markup", [order]).stdout)
        let config = folder.write("sovbridge.toml", """
            inputs = ["spectrum", "procore"]
            project_map = "project-map.csv"
            out = "exports"
            dry_run = true
            interval = 30
            [spectrum]
            cr_status = "AP"
            number_prefix = "P"

            """)
        let emit = try Executables.run("sov-emit", ["--to", "spectrum", "--config", config, input], in: folder.path)
        #expect(emit.status == 0, "\(emit.stderr)")
        #expect(emit.stdoutText.contains("<CR_Status>AP</CR_Status>"))
        #expect(emit.stdoutText.contains("<Change_Request_Number>PP9</Change_Request_Number>"))
        #expect(!FileManager.default.fileExists(atPath: folder.file("exports")))
    }
}

/// The issue's end-to-end test against the built `sov-watch` with the real pipeline: 30 Spectrum
/// contract exports dropped, the watcher killed with SIGKILL in the middle, restarted; then a
/// re-run. The CSV follows the flat contract layout (docs/FORMATS.md, "Layouts").
@Suite(.serialized)
struct SovWatchBinaryTests {
    static func contractCSV(job: String) -> String {
        """
        Company_Code,Job_Number,Customer_Code,Contract_Number,Job_Description,Customer_Name,Price_Method_Code,Status_Code,Contract_Date,Original_Contract,Billing_Item,Billing_Description,Item_Original_Contract
        1,\(job),OWN100,C-\(job),Job \(job),Owner of \(job),F,A,01/15/2025,3500.00,0100,Sitework,1000.00
        1,\(job),OWN100,C-\(job),Job \(job),Owner of \(job),F,A,01/15/2025,3500.00,0200,Building,2500.00

        """
    }

    /// A job header export and its SOV export dropped together in one folder are one batch:
    /// the contract is joined from both, and the folder is archived whole.
    @Test
    func aFolderDroppedIsOneBatchSoHeaderAndSOVAreJoined() throws {
        let folder = TemporaryFolder()
        let drop = DropFolder(folder.file("drop"))
        try drop.create()
        let header = folder.write("drop/inbox/job-24-5000/header.csv", """
            Company_Code,Job_Number,Customer_Code,Contract_Number,Job_Description,Customer_Name,Price_Method_Code,Original_Contract,Status_Code,Contract_Date
            1,24-5000,OWN100,C-5000,Clinic fit-out,Owner 100,F,3500.00,A,01/15/2025

            """)
        let sov = folder.write("drop/inbox/job-24-5000/sov.csv", """
            Company_Code,Job_Number,Customer_Code,Billing_Item,Billing_Description,Original_Contract
            1,24-5000,OWN100,0100,Sitework,1000.00
            1,24-5000,OWN100,0200,Building,2500.00

            """)
        // A folder still being filled (a .part file in it) is left alone; settling (two scans,
        // 5 seconds apart with --once) takes the other.
        folder.write("drop/inbox/job-24-6000/header.csv", "Company_Code\n")
        folder.write("drop/inbox/job-24-6000/sov.csv.part", "Company_Code\n")
        for path in [header, sov, folder.file("drop/inbox/job-24-5000"), folder.file("drop/inbox/job-24-6000")] {
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -60)], ofItemAtPath: path)
        }
        let mapFile = folder.write("map.csv", "company,job,customer,project_id,prime_contract_id\n1,24-5000,OWN100,7100,\n")

        let run = try Executables.run("sov-watch", [drop.root, "--project-map", mapFile, "--once"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("sov-watch: job-24-5000 -> archive/job-24-5000"))
        #expect(folder.names("drop/archive") == ["job-24-5000"])
        #expect(folder.names("drop/archive/job-24-5000") == ["header.csv", "sov.csv"])
        #expect(folder.names("drop/inbox") == ["job-24-6000"])
        #expect(folder.names("drop/rejected").isEmpty)
        #expect(folder.units("drop/outbox") == ["spectrum-1-24-5000-own100.json"])
        let export = try JSONParser.parse(try #require(folder.text(folder.unit("drop/outbox", "spectrum-1-24-5000-own100.json"))).trimmingCharacters(in: .newlines))
        let requests = try #require(export["requests"]?.arrayValue)
        let lineAmounts = requests.dropFirst().compactMap { $0["body"]?["line_item"]?["amount"]?.stringValue }
        #expect(requests.count == 3)
        #expect(lineAmounts == ["1000.00", "2500.00"])
    }

    /// README's `sov-watch /srv/sovbridge --config sovbridge.toml`: the file sov-run uses. Its
    /// inputs, out, rejects and dry_run are the drop folder's business: ignored, and said once.
    @Test
    func aConfigurationSharedWithSovRunIsUsedAndItsRunOnlyKeysIgnoredOutLoud() throws {
        let folder = TemporaryFolder()
        let drop = DropFolder(folder.file("drop"))
        try drop.create()
        let csv = folder.write("drop/inbox/contract.csv", Self.contractCSV(job: "24-0001"))
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -60)], ofItemAtPath: csv)
        folder.write("etc/map.csv", "company,job,customer,project_id,prime_contract_id\n1,24-0001,OWN100,7001,\n")
        let config = folder.write("etc/sovbridge.toml", """
            inputs = ["spectrum", "procore"]
            project_map = "map.csv"
            out = "exports"
            rejects = "rejects.jsonl"
            dry_run = true
            interval = 30
            [spectrum]
            cr_status = "A"

            """)
        let run = try Executables.run("sov-watch", [drop.root, "--once", "--config", config])
        #expect(run.status == 0, "\(run.stderr)")
        let note = "sov-watch: \(config): ignoring inputs, out, rejects, dry_run (for sov-run): the drop folder decides"
        #expect(run.stderr.components(separatedBy: note).count == 2, "said once: \(run.stderr)")
        // Not a dry run, exports in the outbox, the project map from the file used.
        #expect(folder.names("drop/archive") == ["contract.csv"])
        #expect(folder.units("drop/outbox") == ["spectrum-1-24-0001-own100.json"])
        #expect(folder.names("etc") == ["map.csv", "sovbridge.toml"])

        let quiet = try Executables.run("sov-watch", [drop.root, "--once", "--config", config, "--quiet"])
        #expect(quiet.status == 0)
        #expect(quiet.stderr.isEmpty)
    }

    /// The rejects file is kept; work/ is emptied: the file it names is the archived one.
    @Test func theRejectsFileNamesTheArchivedInput() throws {
        let folder = TemporaryFolder()
        let drop = DropFolder(folder.file("drop"))
        try drop.create()
        folder.write("drop/archive/b.csv", "an earlier b.csv\n")
        let csv = folder.write("drop/inbox/b.csv", Self.contractCSV(job: "24-0001"))
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -60)], ofItemAtPath: csv)
        // No project map: the contract has no Procore project (MAP001) and is rejected.
        let run = try Executables.run("sov-watch", [drop.root, "--once"])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(folder.names("drop/archive") == ["b.2.csv", "b.csv"])
        let rejects = try #require(folder.text("drop/rejected/b.2.csv.rejects.jsonl"))
        #expect(rejects.contains("\"file\":\"\(drop.archive)/b.2.csv\""))
        #expect(!rejects.contains("/work/"))
    }

    @Test func sovWatchHelpShowsOnlyWhatItAccepts() throws {
        let help = try Executables.run("sov-watch", ["--help"])
        #expect(help.status == 0)
        for option in ["--once", "--interval", "--project-map", "--ledger", "--report", "--config", "--quiet"] {
            #expect(help.stdoutText.contains(option), "\(option)")
        }
        for option in ["--out", "--rejects", "--dry-run"] {
            #expect(!help.stdoutText.contains(option), "\(option) is sov-run's")
        }
        let runHelp = try Executables.run("sov-run", ["--help"])
        for option in ["--out", "--rejects", "--dry-run", "--config"] {
            #expect(runHelp.stdoutText.contains(option), "\(option)")
        }
    }

    @Test
    func sovWatchKilledMidBatchAndRestartedExportsEveryContractExactlyOnce() throws {
        let folder = TemporaryFolder()
        let drop = DropFolder(folder.file("drop"))
        try drop.create()
        var map = "company,job,customer,project_id,prime_contract_id\n"
        let jobs = (1...30).map { String(format: "24-%04d", $0) }
        for (index, job) in jobs.enumerated() {
            map += "1,\(job),OWN100,\(7000 + index),\n"
            folder.write("drop/inbox/contract-\(job).csv", Self.contractCSV(job: job))
        }
        let mapFile = folder.write("map.csv", map)
        let arguments = [drop.root, "--project-map", mapFile, "--interval", "1", "--quiet"]

        let watcher = try ChildProcess(Executables.path("sov-watch"), arguments)
        _ = waitUntil("the first archived file") { !folder.names("drop/archive").isEmpty || !watcher.isRunning }
        watcher.send(SIGKILL)
        _ = try watcher.wait()
        let archivedAtKill = folder.names("drop/archive").count
        if archivedAtKill == 30 { print("note: sov-watch finished all 30 files before the SIGKILL landed") }

        let restart = try Executables.run("sov-watch", arguments + ["--once"])
        #expect(restart.status == 0, "\(restart.stderr)")
        #expect(folder.names("drop/inbox").isEmpty)
        #expect(folder.names("drop/work").isEmpty)
        #expect(folder.names("drop/archive") == jobs.map { "contract-\($0).csv" })
        #expect(folder.units("drop/outbox").count == 30)
        let ledger = try Ledger(path: drop.defaultLedger)
        let entries = try ledger.entries()
        #expect(entries.count == 30)
        for entry in entries {
            #expect(try ledger.history(originId: entry.originId, target: entry.target).count == 1, "\(entry.originId) exported once")
        }

        // A re-run exports nothing.
        for job in jobs {
            let path = folder.write("drop/inbox/again-\(job).csv", Self.contractCSV(job: job))
            // Unchanged across --once's two scans (5 seconds apart), so it takes them.
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -60)], ofItemAtPath: path)
        }
        let again = try Executables.run("sov-watch", arguments + ["--once"])
        #expect(again.status == 0)
        #expect(folder.units("drop/outbox").count == 30)
        #expect(folder.names("drop/inbox").isEmpty)
        let reruns = try ledger.runs().suffix(30)
        #expect(reruns.count == 30)
        #expect(reruns.allSatisfy { $0.counts.exported == 0 && $0.counts.updated == 0 && $0.counts.unchanged == 1 })
    }
}

/// `sov-run --dry-run` against the built binary: "write nothing" holds for the ledger's folder
/// too (SQLite creates -wal and -shm for any connection unless told otherwise).
struct DryRunBinaryTests {
    @Test func aDryRunCreatesOrChangesNoFileBesideTheLedger() throws {
        let folder = TemporaryFolder()
        let first = folder.write("in/contract-24-0001.csv", SovWatchBinaryTests.contractCSV(job: "24-0001"))
        let second = folder.write("in/contract-24-0002.csv", SovWatchBinaryTests.contractCSV(job: "24-0002"))
        let map = folder.write("map.csv", "company,job,customer,project_id,prime_contract_id\n1,24-0001,OWN100,7001,\n1,24-0002,OWN100,7002,\n")
        let ledger = folder.file("state/ledger.sqlite")
        let common = ["--ledger", ledger, "--project-map", map]

        let run = try Executables.run("sov-run", common + ["--out", folder.file("out"), first])
        #expect(run.status == 0, "\(run.stderr)")
        let closed = try FolderSnapshot(folder.file("state"))
        #expect(closed.names == ["ledger.sqlite"])
        let dry = try Executables.run("sov-run", common + ["--dry-run", first])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdoutText.contains("skip\tprocore\tspectrum:1:24-0001:OWN100\tskip: unchanged since run 1"))
        #expect(try FolderSnapshot(folder.file("state")) == closed)

        // Another process has the ledger open for writing (this one), and a run committed
        // while it had: the dry run sees that run and still touches nothing.
        let writer = try Ledger(path: ledger)
        let again = try Executables.run("sov-run", common + ["--out", folder.file("out"), second])
        #expect(again.status == 0, "\(again.stderr)")
        let inUse = try FolderSnapshot(folder.file("state"))
        #expect(inUse.names == ["ledger.sqlite", "ledger.sqlite-shm", "ledger.sqlite-wal"])
        let dryAgain = try Executables.run("sov-run", common + ["--dry-run", first, second])
        #expect(dryAgain.status == 0, "\(dryAgain.stderr)")
        #expect(dryAgain.stdoutText.contains("skip\tprocore\tspectrum:1:24-0002:OWN100\tskip: unchanged since run 2"))
        #expect(try FolderSnapshot(folder.file("state")) == inUse)
        withExtendedLifetime(writer) {}
    }
}
