import Foundation
import SOVBatch
import SOVCore
import Testing

#if canImport(Glibc)
import Glibc
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
        #expect(fromFile.inputs == [base + "/exports", "/abs/extra.csv"])
        #expect(fromFile.projectMap == base + "/map.csv")
        #expect(fromFile.ledger == base + "/state/ledger.sqlite")
        #expect(fromFile.report == "/var/www/report.html")
        #expect(fromFile.interval == 30)

        let flags = BatchSettings(inputs: ["today.csv"], ledger: "other.sqlite", dryRun: false)
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
        (#"{"outt": "x"}"#, "unknown option 'outt'"),
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

    @Test func unknownEncodingIsAUsageError() {
        #expect(throws: OptionsError.self) { try BatchSettings(encoding: "latin-9").options() }
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

/// The built executables next to this test binary.
enum Executables {
    static let folder = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().path

    static func path(_ name: String) -> String { folder + "/" + name }

    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ name: String, _ arguments: [String], in directory: String? = nil) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path(name))
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
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
        #expect(badEncoding.stderr.contains("unknown encoding 'latin-9'"))
        let config = folder.write("bad.json", #"{"colour": "blue"}"#)
        let badConfig = try Executables.run("sov-run", ["--config", config, "x.csv"], in: folder.path)
        #expect(badConfig.status == 64)
        #expect(badConfig.stderr.contains("unknown option 'colour'"))
        let missingConfig = try Executables.run("sov-run", ["--config", "nope.toml", "x.csv"], in: folder.path)
        #expect(missingConfig.status == 66)
        let watchOut = try Executables.run("sov-watch", [folder.path, "--out", "o"], in: folder.path)
        #expect(watchOut.status == 64)
        #expect(watchOut.stderr.contains("--out is for sov-run"))
        let watchDry = try Executables.run("sov-watch", [folder.path, "--dry-run"], in: folder.path)
        #expect(watchDry.status == 64)
        // Nothing was created by refused command lines.
        #expect(folder.names(".") == ["bad.json"])
    }
}

/// The issue's end-to-end test against the built `sov-watch` with the real pipeline: 30 Spectrum
/// contract exports dropped, the watcher killed with SIGKILL in the middle, restarted; then a
/// re-run. The CSV follows SPEC §2.2's flat contract layout.
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
        // A folder still being filled (one of its files changed just now) is left alone.
        let fresh = folder.write("drop/inbox/job-24-6000/header.csv", "Company_Code\n")
        for path in [header, sov, folder.file("drop/inbox/job-24-5000"), folder.file("drop/inbox/job-24-6000")] {
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -60)], ofItemAtPath: path)
        }
        try FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: fresh)
        let mapFile = folder.write("map.csv", "company,job,customer,project_id,prime_contract_id\n1,24-5000,OWN100,7100,\n")

        let run = try Executables.run("sov-watch", [drop.root, "--project-map", mapFile, "--once"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("sov-watch: job-24-5000 -> archive/job-24-5000"))
        #expect(folder.names("drop/archive") == ["job-24-5000"])
        #expect(folder.names("drop/archive/job-24-5000") == ["header.csv", "sov.csv"])
        #expect(folder.names("drop/inbox") == ["job-24-6000"])
        #expect(folder.names("drop/rejected").isEmpty)
        #expect(folder.names("drop/outbox") == ["spectrum_1_24-5000_OWN100.json"])
        let export = try JSONParser.parse(try #require(folder.read("drop/outbox/spectrum_1_24-5000_OWN100.json")).trimmingCharacters(in: .newlines))
        let requests = try #require(export["requests"]?.arrayValue)
        let lineAmounts = requests.dropFirst().compactMap { $0["body"]?["line_item"]?["amount"]?.stringValue }
        #expect(requests.count == 3)
        #expect(lineAmounts == ["1000.00", "2500.00"])
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

        let watcher = Process()
        watcher.executableURL = URL(fileURLWithPath: Executables.path("sov-watch"))
        watcher.arguments = arguments
        try watcher.run()
        _ = waitUntil("the first archived file") { !folder.names("drop/archive").isEmpty || !watcher.isRunning }
        kill(watcher.processIdentifier, SIGKILL)
        watcher.waitUntilExit()
        let archivedAtKill = folder.names("drop/archive").count
        if archivedAtKill == 30 { print("note: sov-watch finished all 30 files before the SIGKILL landed") }

        let restart = try Executables.run("sov-watch", arguments + ["--once"])
        #expect(restart.status == 0, "\(restart.stderr)")
        #expect(folder.names("drop/inbox").isEmpty)
        #expect(folder.names("drop/work").isEmpty)
        #expect(folder.names("drop/archive") == jobs.map { "contract-\($0).csv" })
        #expect(folder.names("drop/outbox").count == 30)
        let ledger = try Ledger(path: drop.defaultLedger)
        let entries = try ledger.entries()
        #expect(entries.count == 30)
        for entry in entries {
            #expect(try ledger.history(originId: entry.originId, target: entry.target).count == 1, "\(entry.originId) exported once")
        }

        // A re-run exports nothing.
        for job in jobs {
            let path = folder.write("drop/inbox/again-\(job).csv", Self.contractCSV(job: job))
            // Older than the watcher's 2-second settling time, so `--once` takes them now.
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -60)], ofItemAtPath: path)
        }
        let again = try Executables.run("sov-watch", arguments + ["--once"])
        #expect(again.status == 0)
        #expect(folder.names("drop/outbox").count == 30)
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
        #expect(dry.stdout.contains("unchanged\tprocore\tspectrum:1:24-0001:OWN100\tskip: unchanged since run 1"))
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
        #expect(dryAgain.stdout.contains("unchanged\tprocore\tspectrum:1:24-0002:OWN100\tskip: unchanged since run 2"))
        #expect(try FolderSnapshot(folder.file("state")) == inUse)
        withExtendedLifetime(writer) {}
    }
}
