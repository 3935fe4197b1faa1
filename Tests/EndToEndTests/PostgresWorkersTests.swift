import Foundation
import SOVCore
import SOVTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Many workers, one PostgreSQL ledger (issue #20): two sov-run over the same inputs at once,
/// then four sov-push against the Procore stand-in, one killed with -9 twice and the server
/// restarted once mid-run. Runs when SOV_TEST_POSTGRES_URL names a server (`make test-postgres`,
/// CI); the restart needs SOV_TEST_POSTGRES_DIR (scripts/with-postgres.sh sets both).
@Suite(.serialized)
struct PostgresWorkersTests {
    static let url = ProcessInfo.processInfo.environment["SOV_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static let clusterDir = ProcessInfo.processInfo.environment["SOV_TEST_POSTGRES_DIR"].flatMap { $0.isEmpty ? nil : $0 }

    /// psql from the server's own binaries (Debian keeps them out of PATH) or PATH.
    static func psql(_ sql: String) throws -> ProcessOutcome {
        let candidates = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).sorted().reversed()
            .map { "/usr/lib/postgresql/\($0)/bin/psql" } + ["/usr/bin/psql"]
        let psql = try #require(candidates.first { FileManager.default.isExecutableFile(atPath: $0) })
        return try Tool.runShell("\"$1\" \"$2\" -v ON_ERROR_STOP=1 -qtAc \"$3\"", [psql, try #require(url), sql])
    }

    static func launch(_ name: String, _ arguments: [String], environment: [String: String] = [:], in directory: String, log: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Checkout.executable(name))
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var inherited = ProcessInfo.processInfo.environment
        inherited.merge(environment) { $1 }
        process.environment = inherited
        process.standardOutput = FileHandle.nullDevice
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
        return process
    }

    /// Waits for a worker, at most `seconds` (then kills it): a bounded wait. It polls, since
    /// the exit of a child killed or reaped meanwhile is what `waitUntilExit` has been seen to
    /// miss when several run at once.
    static func wait(_ process: Process, seconds: Double = 120) {
        let pid = process.processIdentifier
        var waited = 0.0
        while waited < seconds {
            if !process.isRunning { return }
            // Gone, or a zombie: finished.
            let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
            if stat == nil || Self.isZombie(stat ?? "") {
                // Finished: give Foundation a moment to take note of its status.
                for _ in 0..<100 where process.isRunning { usleep(50_000) }
                return
            }
            usleep(50_000)
            waited += 0.05
        }
        kill(pid, SIGKILL)
        Issue.record("a worker ran longer than \(seconds) s")
    }

    /// `/proc/PID/stat`: "pid (name) S ...", the state after the name's closing parenthesis.
    static func isZombie(_ stat: String) -> Bool {
        guard let close = stat.lastIndex(of: ")") else { return false }
        return stat[close...].dropFirst(2).first == "Z"
    }

    @Test(.enabled(if: url != nil, "SOV_TEST_POSTGRES_URL not set: make test-postgres runs this"))
    func fourWorkersKillsAndARestartDeliverEveryUnitOnce() throws {
        let base = try #require(Self.url)
        let schema = "e2e_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let created = try Self.psql("CREATE SCHEMA \(schema)")
        #expect(created.status == 0, "\(created.stderr)")
        defer { _ = try? Self.psql("DROP SCHEMA \(schema) CASCADE") }
        let ledger = base + (base.contains("?") ? "&" : "?") + "options=-csearch_path%3D\(schema)"

        let folder = TemporaryFolder()
        try PushTests.exports(in: folder)
        // Two exporters at once over the same inputs: every document exported once in all.
        let runs = try (1...2).map { index in
            try Self.launch("sov-run", ["--ledger", ledger, "--project-map", folder.file("map.csv"), "--out", folder.file("out\(index)"), folder.file("in")],
                            in: folder.path, log: folder.file("run\(index).log"))
        }
        runs.forEach { Self.wait($0) }
        for (index, run) in runs.enumerated() {
            #expect(!run.isRunning && run.terminationStatus == 0, "\(folder.text("run\(index + 1).log") ?? "")")
        }
        #expect(try ledgerList(ledger).count == 60)
        #expect(folder.units("out1").count + folder.units("out2").count == 60)
        #expect(!(folder.text("run1.log") ?? "").contains(ledger.replacingOccurrences(of: "sov@", with: "sov:")), "no password shown")

        let standIn = try StandIn(script: "tools/standins/procore_standin.py", arguments: ["--company-id", PushTests.company], maxLifetime: 300)
        defer { standIn.stop() }
        // Slow enough that kills and the restart land mid-delivery.
        _ = try standIn.post("/__standin/faults", json: #"{"every_nth_429": 7, "retry_after": 0}"#)
        let arguments = PushTests.push(standIn, ledger: ledger)
        var workers = try (0..<4).map { index in
            try Self.launch("sov-push", arguments, environment: PushTests.secret, in: folder.path, log: folder.file("push\(index).log"))
        }
        var killed = 0
        for step in 0..<3 {
            usleep(500_000)
            if step == 1, let dir = Self.clusterDir {
                // Not through a pipe: the new server would inherit it and keep it open for ever.
                let restart = Process()
                restart.executableURL = URL(fileURLWithPath: "/bin/bash")
                restart.arguments = [Checkout.path("scripts/pg-cluster.sh"), "restart", dir]
                restart.standardInput = FileHandle.nullDevice
                restart.standardOutput = FileHandle.nullDevice
                restart.standardError = FileHandle.nullDevice
                try restart.run()
                // Foundation may think it still runs (the restarted server inherited what it watches):
                // whether the server is back is asked of the server.
                Self.wait(restart, seconds: 90)
                #expect(try Self.psql("SELECT 1").status == 0, "the server did not come back after pg-cluster.sh restart")
                continue
            }
            if workers[0].isRunning {
                kill(workers[0].processIdentifier, SIGKILL)
                Self.wait(workers[0], seconds: 10)
                killed += 1
            }
            workers[0] = try Self.launch("sov-push", arguments, environment: PushTests.secret, in: folder.path, log: folder.file("push0.log"))
        }
        workers.forEach { Self.wait($0) }
        #expect(killed >= 1, "the push finished before any kill landed")
        // Whatever the kills and the restart left pending: four workers again, until done.
        var rounds = 0
        while try ledgerList(ledger).contains(where: { $0.text("state") != "delivered" }) && rounds < 8 {
            rounds += 1
            let again = try (0..<4).map { index in
                try Self.launch("sov-push", arguments, environment: PushTests.secret, in: folder.path, log: folder.file("again\(index).log"))
            }
            again.forEach { Self.wait($0) }
        }

        let units = try ledgerList(ledger)
        #expect(units.count == 60)
        #expect(units.allSatisfy { $0.text("state") == "delivered" }, "\(units.filter { $0.text("state") != "delivered" })")
        let state = try standIn.get("/__standin/state")
        let primeContracts = state["prime_contracts"]?.arrayValue ?? []
        #expect(primeContracts.count == PushTests.contracts)
        #expect(Set(primeContracts.compactMap { $0["project_id"]?.scalarText }).count == PushTests.contracts)
        for contract in primeContracts {
            let lines = contract["line_items"]?.arrayValue ?? []
            #expect(lines.count == 10 && Set(lines.compactMap { $0["origin_id"]?.stringValue }).count == 10)
        }
        let changeOrders = state["prime_change_orders"]?.arrayValue ?? []
        #expect(changeOrders.count == PushTests.contracts)
        let contractIds = Set(primeContracts.compactMap { $0["id"]?.scalarText })
        #expect(changeOrders.allSatisfy { contractIds.contains($0["contract_id"]?.scalarText ?? "") })
    }
}
