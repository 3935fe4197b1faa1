import Foundation
import SOVCore
import SOVTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// sov-push against the Procore stand-in (tools/standins/procore_standin.py), started by the test
/// on the loopback address: faults injected, the push killed with -9 twice, then run again.
@Suite(.serialized)
struct PushTests {
    static let company = "4264807"
    static let contracts = 30

    /// 30 contracts of 10 SOV lines and one change order each (two lines, a 5 % fee), as Spectrum
    /// exports; the project map gives each job its own project and no prime contract id.
    static func exports(in folder: TemporaryFolder, changedLine: Bool = false) throws {
        var contracts: [String] = []
        var changeOrders = SpectrumExports.changeOrderHeader + "\n"
        var map = "company,job,customer,project_id,prime_contract_id\n"
        for index in 0..<Self.contracts {
            let job = "25-\(1000 + index)"
            var rows: [String] = []
            for line in 1...10 {
                let amount = changedLine && index == 0 && line == 3 ? "1100.00" : "1000.00"
                let total = changedLine && index == 0 ? "10100.00" : "10000.00"
                rows.append("1,\"\(job)\",OWN\(index),C-\(job),Job \(job),F,\(total),A,\(String(format: "%02d", line))-000,Item \(line),\(amount)")
            }
            contracts.append(rows.joined(separator: "\n"))
            changeOrders += "1,\(job),OWN\(index),001,Extra work,A,11/04/2024,11/18/2024,3,5.00,,,01-000,Extra one,,,1000.00\n"
            changeOrders += "1,\(job),OWN\(index),001,Extra work,A,11/04/2024,11/18/2024,3,5.00,,,02-000,Extra two,,,333.33\n"
            map += "1,\(job),OWN\(index),\(700_000 + index),\n"
        }
        folder.write("in/contracts.csv", SpectrumExports.contracts(contracts))
        folder.write("in/change_orders.csv", changeOrders)
        folder.write("map.csv", map)
    }

    static func push(_ standIn: StandIn, ledger: String, extra: [String] = []) -> [String] {
        ["--ledger", ledger, "--procore-api-url", standIn.baseURL.absoluteString, "--procore-login-url", standIn.baseURL.absoluteString,
         "--procore-company-id", company, "--procore-client-id", "standin-client", "--to", "procore"] + extra
    }

    static let secret = ["PROCORE_CLIENT_SECRET": "standin-secret"]

    /// The calls the stand-in has seen that write something.
    static func writes(_ standIn: StandIn) throws -> [String] {
        try standIn.get("/__standin/requests").arrayValue?.compactMap { call -> String? in
            guard let method = call["method"]?.stringValue, method != "GET", let path = call["path"]?.stringValue, path.hasPrefix("/rest/") else { return nil }
            return method + " " + path
        } ?? []
    }

    @Test func thirtyContractsAndTheirChangeOrdersReachProcoreOnceThroughFaultsAndKills() throws {
        let folder = TemporaryFolder()
        try Self.exports(in: folder)
        let ledger = folder.file("l.sqlite")
        let run = try Tool.run("sov-run", ["--ledger", ledger, "--project-map", folder.file("map.csv"), "--out", folder.file("out"), folder.file("in")])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("60 exported"))

        let standIn = try StandIn(script: "tools/standins/procore_standin.py", arguments: ["--company-id", Self.company], maxLifetime: 300)
        defer { standIn.stop() }
        _ = try standIn.post("/__standin/faults", json: """
            {"every_nth_429": 9, "every_nth_503": 37, "retry_after": 0, "expire_tokens_at_call": 60,
             "lose_response": [{"method": "POST", "path_regex": "/prime_contract$", "count": 1},
                               {"method": "POST", "path_regex": "/prime_change_orders$", "count": 1}]}
            """)
        let arguments = Self.push(standIn, ledger: ledger)
        for (attempt, pause) in [UInt32(700), 1500].enumerated() {
            #expect(try Tool.killAfter(pause, "sov-push", arguments, environment: Self.secret), "kill \(attempt + 1) came after the push had finished")
        }
        let final = try Tool.run("sov-push", arguments + ["--report", folder.file("push.html")], environment: Self.secret)
        #expect(final.status == 0, "\(final.stderr)")

        // Exactly one prime contract per project, each line and change order once, amounts exact.
        let state = try standIn.get("/__standin/state")
        let primeContracts = state["prime_contracts"]?.arrayValue ?? []
        #expect(primeContracts.count == Self.contracts)
        #expect(Set(primeContracts.compactMap { $0["project_id"]?.scalarText }).count == Self.contracts)
        for contract in primeContracts {
            let lines = contract["line_items"]?.arrayValue ?? []
            #expect(lines.count == 10)
            #expect(Set(lines.compactMap { $0["origin_id"]?.stringValue }).count == 10)
            #expect(try total(lines.map { $0["amount"]?.stringValue }) == money("10000.00"))
        }
        let changeOrders = state["prime_change_orders"]?.arrayValue ?? []
        #expect(changeOrders.count == Self.contracts)
        let contractIds = Set(primeContracts.compactMap { $0["id"]?.scalarText })
        for order in changeOrders {
            #expect(contractIds.contains(order["contract_id"]?.scalarText ?? ""), "the change order's contract is the one delivered")
            let pco = order["potential_change_orders"]?.arrayValue?.first
            let lines = pco?["line_items"]?.arrayValue ?? []
            #expect(lines.map { $0["amount"]?.stringValue } == ["1000.00", "333.33"])
            let markups = pco?["markups"]?.arrayValue ?? []
            #expect(markups.map { $0["name"]?.stringValue } == ["Fee"])
            #expect(markups.first?["percentage"]?.scalarText == "5")
        }
        let units = try ledgerList(ledger)
        #expect(units.count == 60 && units.allSatisfy { $0.text("state") == "delivered" })
        #expect(folder.units("out").isEmpty, "delivered units leave the outbox")
        #expect(folder.units("out/delivered").count == 60)
        let report = try #require(folder.text("push.html"))
        #expect(report.contains("Prime contracts in Procore"))
        #expect(!report.contains("standin-secret"))

        // Nothing pending: a further push makes no call at all.
        let before = try standIn.get("/__standin/requests").arrayValue?.count ?? 0
        let again = try Tool.run("sov-push", arguments, environment: Self.secret)
        #expect(again.status == 0)
        #expect(try standIn.get("/__standin/requests").arrayValue?.count == before)

        // A changed SOV line: updated in place, never duplicated.
        let lineBefore = primeContracts.first { $0["origin_id"]?.stringValue == "spectrum:1:25-1000:OWN0" }?["line_items"]?.arrayValue?
            .first { $0["origin_id"]?.stringValue == "spectrum:1:25-1000:OWN0:03-000" }
        try Self.exports(in: folder, changedLine: true)
        let rerun = try Tool.run("sov-run", ["--ledger", ledger, "--project-map", folder.file("map.csv"), "--out", folder.file("out"), folder.file("in")])
        #expect(rerun.stderr.contains("1 updated"), "\(rerun.stderr)")
        _ = try standIn.post("/__standin/faults", json: "{}")
        let writesBefore = try Self.writes(standIn).count
        let update = try Tool.run("sov-push", arguments, environment: Self.secret)
        #expect(update.status == 0, "\(update.stderr)")
        #expect(try Self.writes(standIn).dropFirst(writesBefore).allSatisfy { $0.hasPrefix("PATCH ") }, "an update sends no create")
        let after = try standIn.get("/__standin/state")["prime_contracts"]?.arrayValue ?? []
        #expect(after.count == Self.contracts)
        let changed = after.first { $0["origin_id"]?.stringValue == "spectrum:1:25-1000:OWN0" }
        let lines = changed?["line_items"]?.arrayValue ?? []
        #expect(lines.count == 10)
        let line = lines.first { $0["origin_id"]?.stringValue == "spectrum:1:25-1000:OWN0:03-000" }
        #expect(line?["amount"]?.stringValue == "1100.00")
        #expect(line?["id"]?.scalarText == lineBefore?["id"]?.scalarText)
    }

    /// What Procore refuses is kept verbatim, the unit is refused and its change order waits; the
    /// exit status says so. Credentials refused: 77, naming the settings to check.
    @Test func refusalsAndCredentials() throws {
        let folder = TemporaryFolder()
        folder.write("map.csv", SpectrumExports.projectMap([("24-3000", nil, 3000)]))
        folder.write("in/contracts.csv", SpectrumExports.contracts([SpectrumExports.contract(job: "24-3000")]))
        folder.write("in/co.csv", SpectrumExports.changeOrder(job: "24-3000"))
        let ledger = folder.file("l.sqlite")
        #expect(try Tool.run("sov-run", ["--ledger", ledger, "--project-map", folder.file("map.csv"), "--out", folder.file("out"), folder.file("in")]).status == 0)

        let standIn = try StandIn(script: "tools/standins/procore_standin.py", arguments: ["--company-id", Self.company], maxLifetime: 120)
        defer { standIn.stop() }
        let wrong = try Tool.run("sov-push", Self.push(standIn, ledger: ledger), environment: ["PROCORE_CLIENT_SECRET": "not-the-secret"])
        #expect(wrong.status == 77)
        #expect(wrong.stderr.contains("procore.client_id") && !wrong.stderr.contains("not-the-secret"))
        let missing = try Tool.run("sov-push", Self.push(standIn, ledger: ledger))
        #expect(missing.status == 64)
        #expect(missing.stderr.contains("PROCORE_CLIENT_SECRET"))

        let plan = try Tool.run("sov-push", Self.push(standIn, ledger: ledger, extra: ["--dry-run"]))
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stdoutText.contains("POST /rest/v1.0/prime_contract"))
        #expect(plan.stdoutText.contains("sha256:"))
        #expect(try Self.writes(standIn).isEmpty)

        _ = try standIn.post("/__standin/faults", json: """
            {"fail_status": [{"method": "POST", "path_regex": "/prime_contract$", "status": 422, "count": 5,
                              "body": {"errors": {"number": ["has already been taken"]}}}]}
            """)
        let refused = try Tool.run("sov-push", Self.push(standIn, ledger: ledger, extra: ["--rejects", folder.file("refused.jsonl")]), environment: Self.secret)
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("has already been taken"))
        #expect(refused.stderr.contains("1 refused, 0 failed, 1 waiting"))
        let units = try ledgerList(ledger)
        #expect(units.map { $0.text("state") } == ["refused", "pending"])
        #expect(units.first?.text("message")?.contains("has already been taken") == true)
        let rejects = try folder.jsonLines("refused.jsonl")
        #expect(rejects.count == 1 && rejects.first?.text("origin_id") == "spectrum:1:24-3000:OWN100")
    }

    /// `sov-run --push`: export and deliver in one go.
    @Test func runPushExportsAndDelivers() throws {
        let folder = TemporaryFolder()
        folder.write("map.csv", SpectrumExports.projectMap([("24-3100", nil, 3100)]))
        folder.write("in/contracts.csv", SpectrumExports.contracts([SpectrumExports.contract(job: "24-3100")]))
        let standIn = try StandIn(script: "tools/standins/procore_standin.py", arguments: ["--company-id", Self.company], maxLifetime: 120)
        defer { standIn.stop() }
        let ledger = folder.file("l.sqlite")
        let run = try Tool.run(
            "sov-run", ["--project-map", folder.file("map.csv"), "--out", folder.file("out"), "--push", folder.file("in")] + Self.push(standIn, ledger: ledger),
            environment: Self.secret)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("1 delivered"))
        #expect(try standIn.get("/__standin/state")["prime_contracts"]?.arrayValue?.count == 1)
        #expect(try ledgerList(ledger).first?.text("state") == "delivered")
    }
}

/// The drop folder delivers after each pass; the Spectrum change order layout goes through too.
@Suite(.serialized)
struct WatchPushTests {
    @Test func sovWatchPushDeliversAndMovesUnitsToDelivered() throws {
        let folder = TemporaryFolder()
        folder.write("map.csv", SpectrumExports.projectMap([("24-3200", nil, 3200)]))
        folder.write("drop/inbox/contracts.csv", SpectrumExports.contracts([SpectrumExports.contract(job: "24-3200")]))
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -60)], ofItemAtPath: folder.file("drop/inbox/contracts.csv"))
        let standIn = try StandIn(script: "tools/standins/procore_standin.py", arguments: ["--company-id", PushTests.company], maxLifetime: 120)
        defer { standIn.stop() }
        let watch = try Tool.run(
            "sov-watch",
            [folder.file("drop"), "--once", "--settle", "0", "--project-map", folder.file("map.csv"), "--push"]
                + PushTests.push(standIn, ledger: folder.file("drop/sovbridge-ledger.sqlite")).dropFirst(2),
            environment: PushTests.secret)
        #expect(watch.status == 0, "\(watch.stderr)")
        #expect(folder.units("drop/outbox").isEmpty)
        #expect(folder.units("drop/outbox/delivered") == ["spectrum-1-24-3200-own100.json"])
        #expect(try standIn.get("/__standin/state")["prime_contracts"]?.arrayValue?.count == 1)
    }

    @Test func theChangeOrderLayoutReachesSpectrum() throws {
        let folder = TemporaryFolder()
        folder.write("cfg.toml", "[spectrum]\nlayout = \"change-order\"\n")
        // ARChangeOrder's CO_Billing_Item_Code is numeric (DEX-TRANSPORT.md 4.2): a site whose
        // billing items are numbers.
        let package = String(decoding: try #require(FileManager.default.contents(atPath: Checkout.path("samples/procore/pcco-package.json"))), as: UTF8.self)
            .replacingOccurrences(of: "\"03-300\"", with: "\"0330\"").replacingOccurrences(of: "\"05-100\"", with: "\"0510\"")
        folder.write("package.json", package)
        let ledger = folder.file("l.sqlite")
        let run = try Tool.run(
            "sov-run", ["--config", folder.file("cfg.toml"), "--ledger", ledger, "--project-map", "samples/project-map.csv", "--out", folder.file("out"), folder.file("package.json")])
        #expect(run.status == 0, "\(run.stderr)")
        let spectrum = try StandIn(script: "tools/standins/spectrum_standin.py", arguments: ["--authorization-id", "CO-LAYOUT"], maxLifetime: 120)
        defer { spectrum.stop() }
        let push = try Tool.run(
            "sov-push", ["--ledger", ledger, "--to", "spectrum", "--spectrum-dex-url", spectrum.baseURL.absoluteString],
            environment: ["SPECTRUM_AUTHORIZATION_ID": "CO-LAYOUT"])
        #expect(push.status == 0, "\(push.stderr)")
        let stored = try spectrum.get("/__standin/state")["change_orders"]?.arrayValue ?? []
        #expect(stored.count == 1)
        #expect(stored.first?["number"]?.stringValue == "004")
    }
}

/// Many firms on one ledger: each run tags its units with the Procore company it serves, and a
/// push limited to a company delivers only that company's units.
struct FirmIsolationTests {
    @Test func aPushLimitedToACompanyTakesOnlyItsUnits() throws {
        let folder = TemporaryFolder()
        folder.write("map.csv", SpectrumExports.projectMap([("24-4100", nil, 4100), ("24-4200", nil, 4200)]))
        folder.write("a/contracts.csv", SpectrumExports.contracts([SpectrumExports.contract(job: "24-4100")]))
        folder.write("b/contracts.csv", SpectrumExports.contracts([SpectrumExports.contract(job: "24-4200")]))
        folder.write("firm-b.toml", "[procore]\ncompany_id = \"2002\"\n")
        let ledger = folder.file("l.sqlite")
        let common = ["--ledger", ledger, "--project-map", folder.file("map.csv"), "--out", folder.file("out")]
        #expect(try Tool.run("sov-run", common + ["--procore-company-id", "1001", folder.file("a")]).status == 0)
        #expect(try Tool.run("sov-run", common + ["--config", folder.file("firm-b.toml"), folder.file("b")]).status == 0)
        let units = try ledgerList(ledger)
        #expect(units.map { $0.text("company_id") } == ["1001", "2002"])

        let firmA = try Tool.run("sov-push", ["--ledger", ledger, "--dry-run", "--company-id", "1001"])
        #expect(firmA.status == 0, "\(firmA.stderr)")
        #expect(firmA.stdoutText.contains("spectrum:1:24-4100:OWN100") && !firmA.stdoutText.contains("24-4200"))
        let everyone = try Tool.run("sov-push", ["--ledger", ledger, "--dry-run"])
        #expect(everyone.stdoutText.contains("24-4100") && everyone.stdoutText.contains("24-4200"))
    }
}
