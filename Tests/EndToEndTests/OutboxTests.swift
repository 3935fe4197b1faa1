import Foundation
import SOVCore
import SOVTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Spectrum exports made up for the outbox tests: flat contract CSVs (the header repeated on each
/// SOV line, docs/FORMATS.md, "Layouts"), change order CSVs and a project map.
enum SpectrumExports {
    static let contractHeader = "Company_Code,Job_Number,Customer_Code,Contract_Number,Job_Description,Price_Method_Code,Original_Contract,Status_Code,Billing_Item,Billing_Description,Item_Original_Contract"

    /// One contract of `lines` SOV lines of 1000.00 each; `total` overrides the header amount
    /// (a wrong one is PC003).
    static func contract(job: String, customer: String = "OWN100", lines: Int = 2, total: String? = nil) -> String {
        let sum = total ?? "\(lines * 1000).00"
        return (1...lines).map { index in
            "1,\"\(job)\",\(customer),C-\(index == 1 ? job : job),Job \(job),F,\(sum),A,\(String(format: "%02d", index))-000,Item \(index),1000.00"
        }.joined(separator: "\n")
    }

    static func contracts(_ rows: [String]) -> String { ([contractHeader] + rows).joined(separator: "\n") + "\n" }

    static let changeOrderHeader = "Company_Code,Job_Number,Customer_Code,Change_Order_Number,Description,Status_Code,Change_Order_Date,Approved_Date,Approved_Days,Fee_Percent,Fee_Amount,CO_Billing_Group_Code,CO_Billing_Item_Code,Additional_Description,Unit_Price,Quantity,Revenue"

    static func changeOrder(job: String, customer: String = "OWN100", number: String = "001", revenue: String = "500.00") -> String {
        changeOrderHeader + "\n" + "1,\(job),\(customer),\(number),Extra work,A,11/04/2024,11/18/2024,3,,,,01-000,Extra,,,\(revenue)\n"
    }

    /// Maps each job (any customer unless given) to its own project; no prime contract ids.
    static func projectMap(_ jobs: [(job: String, customer: String?, project: Int)]) -> String {
        "company,job,customer,project_id,prime_contract_id\n" + jobs.map { "1,\($0.job),\($0.customer ?? ""),\($0.project)," }.joined(separator: "\n") + "\n"
    }
}

/// What `sov-ledger list --json` says, one object per unit or held document.
func ledgerList(_ ledger: String, state: String? = nil) throws -> [JSONValue] {
    var arguments = ["list", "--ledger", ledger, "--json"]
    if let state { arguments += ["--state", state] }
    let outcome = try Tool.run("sov-ledger", arguments)
    #expect(outcome.status == 0, "\(outcome.stderr)")
    return try outcome.jsonLines()
}

/// The six ways issue #13 found to lose an export, each as it was reproduced.
@Suite(.serialized)
struct OutboxTests {
    /// 1. Origin ids that one file name would merge (`24/1017`, `24:1017`, `24_1017`; customers
    /// that differ only in case) each get their own unit file.
    @Test func idsThatLookAlikeGetTheirOwnFiles() throws {
        let folder = TemporaryFolder()
        let jobs: [(String, String)] = [("24/1017", "OWN100"), ("24:1017", "OWN100"), ("24_1017", "OWN100"), ("24-9000", "OWN100"), ("24-9000", "own100")]
        folder.write("in/contracts.csv", SpectrumExports.contracts(jobs.map { SpectrumExports.contract(job: $0.0, customer: $0.1) }))
        folder.write("map.csv", SpectrumExports.projectMap(jobs.enumerated().map { ($0.element.0, $0.element.1, 9001 + $0.offset) }))
        let run = try Tool.run("sov-run", ["--ledger", folder.file("l.sqlite"), "--project-map", folder.file("map.csv"), "--out", folder.file("out"), folder.file("in")])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("5 exported"))
        let files = folder.names("out").filter { !$0.hasPrefix(".") }
        #expect(files.count == 5)
        #expect(Set(files.map { $0.lowercased() }).count == 5)
        for name in files {
            #expect(name.utf8.count <= 120 && name.utf8.allSatisfy { $0 < 0x80 } && name == name.lowercased(), "\(name)")
        }
        let origins = try files.map { try #require(try folder.jsonLines("out/" + $0).first?.text("origin_id")) }
        #expect(Set(origins) == Set(jobs.map { "spectrum:1:\($0.0):\($0.1)" }))
        // Apply order is name order.
        #expect(files.sorted() == files.sorted { $0.prefix(8) < $1.prefix(8) })
        #expect(try ledgerList(folder.file("l.sqlite"), state: "pending").count == 5)
    }

    /// 2. A change of a document whose create nobody has taken yet: the create is replaced by a
    /// new create with the newest content (the old one kept in outbox/superseded/), never by an
    /// update whose create would be gone. Within one run, and across runs.
    @Test func aChangeBeforeDeliveryReplacesThePendingCreate() throws {
        let folder = TemporaryFolder()
        folder.write("map.csv", "company,job,customer,project_id,prime_contract_id\n1,24-1017,OWN100,2783451,31504417\n")
        folder.write("a/co.csv", SpectrumExports.changeOrder(job: "24-1017", revenue: "500.00"))
        folder.write("b/co.csv", SpectrumExports.changeOrder(job: "24-1017", revenue: "750.00"))
        let common = ["--ledger", folder.file("l.sqlite"), "--project-map", folder.file("map.csv"), "--out", folder.file("out")]

        // Two versions in one run: the later one wins, as one create.
        let one = try Tool.run("sov-run", common + [folder.file("a/co.csv"), folder.file("b/co.csv")])
        #expect(one.status == 0, "\(one.stderr)")
        #expect(folder.units("out") == ["spectrum-1-24-1017-own100-co-001.json"])
        var create = try #require(try folder.jsonLines(folder.unit("out", "spectrum-1-24-1017-own100-co-001.json")).first)
        #expect(create["requests"]?.array.allSatisfy { $0.text("method") == "POST" } == true)
        #expect(create["requests"]?.array.first?.text("path") == "/rest/v1.0/projects/2783451/prime_change_orders")
        #expect(create["requests"]?.array.dropFirst().first?.text("body", "line_item", "amount") == "750.00")
        #expect(folder.units("out/superseded") == ["spectrum-1-24-1017-own100-co-001.json"])

        // Another run with the first amount again, before anyone took the create: still one create.
        let two = try Tool.run("sov-run", common + [folder.file("a/co.csv")])
        #expect(two.status == 0, "\(two.stderr)")
        #expect(two.stderr.contains("1 updated") && two.stderr.contains("1 pending unit superseded"))
        #expect(folder.units("out") == ["spectrum-1-24-1017-own100-co-001.json"])
        create = try #require(try folder.jsonLines(folder.unit("out", "spectrum-1-24-1017-own100-co-001.json")).first)
        #expect(create["requests"]?.array.allSatisfy { $0.text("method") == "POST" } == true)
        #expect(create["requests"]?.array.dropFirst().first?.text("body", "line_item", "amount") == "500.00")
        #expect(folder.names("out/superseded").count == 2)
        let units = try ledgerList(folder.file("l.sqlite"))
        #expect(units.map { $0.text("state") ?? "" } == ["superseded", "superseded", "pending"])
        #expect(units.map { $0.text("action") ?? "" } == ["create", "create", "create"])
        #expect(units[0].text("superseded_by") == units[1].text("seq"))

        // Once a consumer took it, a change is an update after it.
        let taken = folder.file(folder.unit("out", "spectrum-1-24-1017-own100-co-001.json"))
        try FileManager.default.moveItem(atPath: taken, toPath: folder.file("taken.json"))
        let three = try Tool.run("sov-run", common + [folder.file("b/co.csv")])
        #expect(three.status == 0, "\(three.stderr)")
        let update = try #require(try folder.jsonLines(folder.unit("out", "spectrum-1-24-1017-own100-co-001.json")).first)
        #expect(update["requests"]?.array.first?.text("method") == "PATCH")
        let after = try ledgerList(folder.file("l.sqlite"))
        #expect(after.map { $0.text("state") ?? "" } == ["superseded", "superseded", "delivered", "pending"])
        #expect(after.last?.text("action") == "update")
        #expect(after.last?.text("base_seq") == after[2].text("seq"))
    }

    /// 3. A change order whose prime contract this run rejected (PC003), and that no earlier run
    /// exported, is held (DEP001), not exported against a contract that will never exist; the run
    /// that exports the contract exports it too, without its input.
    @Test func aChangeOrderWaitsForItsRejectedContract() throws {
        let folder = TemporaryFolder()
        folder.write("map.csv", SpectrumExports.projectMap([("24-5000", nil, 5000)]))
        folder.write("in/contracts.csv", SpectrumExports.contracts([SpectrumExports.contract(job: "24-5000", total: "9999.00")]))
        folder.write("in/co.csv", SpectrumExports.changeOrder(job: "24-5000"))
        let common = ["--ledger", folder.file("l.sqlite"), "--project-map", folder.file("map.csv"), "--out", folder.file("out"), "--report", folder.file("report.html"), "--report-csv", folder.file("csv")]
        let first = try Tool.run("sov-run", common + [folder.file("in")])
        #expect(first.status == 1, "\(first.stderr)")
        #expect(first.stderr.contains("[PC003]"))
        #expect(first.stderr.contains("warning: [DEP001] change order 001"))
        #expect(first.stderr.contains("0 exported, 0 updated, 0 unchanged, 1 rejected, 1 held (DEP001)"))
        #expect(folder.units("out").isEmpty)
        let held = try ledgerList(folder.file("l.sqlite"), state: "held")
        #expect(held.map { $0.text("origin_id") ?? "" } == ["spectrum:1:24-5000:OWN100:co:001"])
        #expect(folder.text("report.html")?.contains("Held: waiting for their prime contract") == true)
        // The same tables as CSV beside the page, the held change order among them.
        #expect(folder.names("csv").filter { $0.hasSuffix(".csv") }.count >= 5)
        #expect(folder.names("csv").compactMap { folder.text("csv/" + $0) }.contains { $0.contains("DEP001") || $0.contains("co:001") })

        // The contract fixed, alone: both go out, contract first; nothing is held any more.
        folder.write("fixed/contracts.csv", SpectrumExports.contracts([SpectrumExports.contract(job: "24-5000")]))
        let second = try Tool.run("sov-run", common + [folder.file("fixed")])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stderr.contains("2 exported"))
        let names = folder.names("out").filter { !$0.hasPrefix(".") }.sorted()
        #expect(names.compactMap(UnitFiles.slug) == ["spectrum-1-24-5000-own100.json", "spectrum-1-24-5000-own100-co-001.json"])
        let changeOrder = try #require(try folder.jsonLines("out/" + names[1]).first)
        #expect(changeOrder.text("contract_origin_id") == "spectrum:1:24-5000:OWN100")
        #expect(changeOrder["requests"]?.array.first?["body"]?["change_order"]?["contract_id"] == .string("{prime_contract_id}"))
        #expect(try ledgerList(folder.file("l.sqlite"), state: "held").isEmpty)
    }

    /// 4. Names no disk takes (a 246-character input name, a 250-digit Procore id) neither wedge
    /// the drop folder nor stop the files after them.
    @Test func longNamesDoNotWedgeTheDropFolder() throws {
        let folder = TemporaryFolder()
        let event = try #require(FileManager.default.contents(atPath: Checkout.path("samples/procore/pcco-event.json")))
        let longId = String(repeating: "7", count: 250)
        let text = String(decoding: event, as: UTF8.self).replacingOccurrences(of: "1186921", with: longId)
        let longName = String(repeating: "n", count: 241) + ".json"
        folder.write("drop/inbox/" + longName, text)
        folder.write("drop/inbox/zz-after.json", String(decoding: event, as: UTF8.self))
        let past = Date(timeIntervalSinceNow: -60)
        for name in [longName, "zz-after.json"] {
            try FileManager.default.setAttributes([.modificationDate: past], ofItemAtPath: folder.file("drop/inbox/" + name))
        }
        let watch = try Tool.run(
            "sov-watch", [folder.file("drop"), "--once", "--settle", "0", "--project-map", "samples/project-map.csv"],
            environment: ["SPECTRUM_AUTHORIZATION_ID": "TEST-ID"])
        #expect([0, 1].contains(watch.status), "\(watch.stderr)")
        #expect(folder.names("drop/inbox").isEmpty)
        #expect(folder.names("drop/work").isEmpty)
        #expect(folder.names("drop/archive").count == 2)
        #expect(folder.names("drop/archive").allSatisfy { $0.utf8.count <= 160 })
        let units = folder.names("drop/outbox").filter { !$0.hasPrefix(".") && UnitFiles.slug($0) != nil }
        #expect(units.count == 2)
        #expect(units.allSatisfy { $0.utf8.count <= 120 })
    }

    /// 5. A failed input's error report never replaces another file, even one named like it.
    @Test func anErrorReportNeverReplacesAnotherInput() throws {
        let folder = TemporaryFolder()
        folder.write("drop/inbox/a.json.error.txt", "{not json")
        let past = Date(timeIntervalSinceNow: -60)
        try FileManager.default.setAttributes([.modificationDate: past], ofItemAtPath: folder.file("drop/inbox/a.json.error.txt"))
        let first = try Tool.run("sov-watch", [folder.file("drop"), "--once", "--settle", "0"])
        #expect(first.status == 65, "\(first.stderr)")
        let original = folder.text("drop/failed/a.json.error.txt")
        #expect(original == "{not json")

        folder.write("drop/inbox/a.json", "{\"broken\": ")
        try FileManager.default.setAttributes([.modificationDate: past], ofItemAtPath: folder.file("drop/inbox/a.json"))
        let second = try Tool.run("sov-watch", [folder.file("drop"), "--once", "--settle", "0"])
        #expect(second.status == 65, "\(second.stderr)")
        #expect(folder.text("drop/failed/a.json.error.txt") == original, "the first input is intact")
        let names = folder.names("drop/failed")
        #expect(names.count == 4, "\(names)")
        #expect(names.contains("a.2.json") && names.contains("a.2.json.error.txt"))
    }

    /// 6. `sov-run` to a pipe whose reader leaves early: exit 74, nothing of the run recorded, and
    /// the next run sends everything (at least once, never lost).
    @Test func aClosedPipeRecordsNothing() throws {
        let folder = TemporaryFolder()
        let jobs = (0..<40).map { "24-\(6000 + $0)" }
        folder.write("in/contracts.csv", SpectrumExports.contracts(jobs.map { SpectrumExports.contract(job: $0, lines: 40) }))
        folder.write("map.csv", SpectrumExports.projectMap(jobs.enumerated().map { ($0.element, nil, 6000 + $0.offset) }))
        let ledger = folder.file("l.sqlite")
        let script = """
            "$1" --ledger "$2" --project-map "$3" "$4" | (sleep 0.3; head -1 > /dev/null)
            echo "${PIPESTATUS[0]}"
            """
        let piped = try Tool.runShell(script, [Checkout.executable("sov-run"), ledger, folder.file("map.csv"), folder.file("in")])
        #expect(piped.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "74", "\(piped.stderr)")
        #expect(piped.stderr.contains("standard output was closed"))
        #expect(try ledgerList(ledger).isEmpty)

        let again = try Tool.run("sov-run", ["--ledger", ledger, "--project-map", folder.file("map.csv"), folder.file("in")])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try again.jsonLines().count == 40)
        let units = try ledgerList(ledger)
        #expect(units.count == 40 && units.allSatisfy { $0.text("state") == "delivered" })
    }

    /// A ledger written by the release before the outbox is migrated in place: its exports are
    /// delivered units, and nothing is exported again.
    @Test func aLedgerOfTheLastReleaseIsMigrated() throws {
        let folder = TemporaryFolder()
        let fixture = try #require(FileManager.default.contents(atPath: Checkout.path("Tests/Fixtures/ledger/v1-release-ledger.sqlite")))
        folder.write("l.sqlite", fixture)
        // The project map that release ran with (its prime contract ids are in the documents).
        folder.write("map.csv", """
            company,job,customer,project_id,prime_contract_id
            1,24-1017,OWN100,2783451,31504417
            1,24-1022,OWN200,2783468,31504952
            1,24-1031,DOT300,2791102,31612230
            1,24-2040,OWN400,2810077,31877316

            """)
        let run = try Tool.run("sov-run", ["--config", "samples/sovbridge.toml", "--project-map", folder.file("map.csv"), "--ledger", folder.file("l.sqlite"), "--out", folder.file("out")])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("0 exported, 0 updated, 7 unchanged, 2 rejected"))
        #expect(folder.units("out").isEmpty)
        let units = try ledgerList(folder.file("l.sqlite"))
        #expect(units.count == 7)
        #expect(units.allSatisfy { $0.text("state") == "delivered" && $0.text("action") == "create" })
        let show = try Tool.run("sov-ledger", ["show", "spectrum:1:24-1017:OWN100", "--ledger", folder.file("l.sqlite")])
        #expect(show.status == 0)
        #expect(show.stdoutText.contains("version 1: new in run 1"))
    }

    /// A ledger of schema 2 (the release before units were stored packed; made by that release's
    /// sov-run over the samples, edited as below, with a consumer taking one unit between its two
    /// runs) is migrated in place: the same inputs are all unchanged (its content hashes still
    /// match), and a change is an update worked out against the unit it stored unpacked.
    @Test func aSchema2LedgerOfTheLastReleaseIsMigrated() throws {
        let folder = TemporaryFolder()
        let fixture = try #require(FileManager.default.contents(atPath: Checkout.path("Tests/Fixtures/ledger/v2-release-ledger.sqlite")))
        folder.write("l.sqlite", fixture)
        try FileManager.default.copyItem(atPath: Checkout.path("samples"), toPath: folder.file("samples"))
        let sov = folder.file("samples/spectrum/sov.csv")
        func edit(_ from: String, _ to: String) throws {
            let text = try String(contentsOfFile: sov, encoding: .utf8)
            #expect(text.contains(from))
            try text.replacingOccurrences(of: from, with: to).write(toFile: sov, atomically: true, encoding: .utf8)
        }
        try edit("1,24-1017,OWN100,01-000,General Conditions,", "1,24-1017,OWN100,01-000,General Conditions and Fees,")
        try edit("1,24-1022,OWN200,01-000,General Conditions,", "1,24-1022,OWN200,01-000,General Conditions (revised),")
        let arguments = ["--config", folder.file("samples/sovbridge.toml"), "--ledger", folder.file("l.sqlite"), "--out", folder.file("out")]
        let run = try Tool.run("sov-run", arguments)
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("0 exported, 0 updated, 7 unchanged, 2 rejected"), "\(run.stderr)")
        #expect(folder.units("out").isEmpty)

        try edit("General Conditions and Fees,", "General Conditions plus Fees,")
        let changed = try Tool.run("sov-run", arguments)
        #expect(changed.stderr.contains("0 exported, 1 updated, 6 unchanged"), "\(changed.stderr)")
        let units = try ledgerList(folder.file("l.sqlite"))
        #expect(units.count == 10)
        let update = try #require(units.last)
        #expect(update.text("action") == "update" && update.text("state") == "pending")
        #expect(folder.text(folder.unit("out", try #require(folder.units("out").first)))?.contains("General Conditions plus Fees") == true)
        let show = try Tool.run("sov-ledger", ["show", "spectrum:1:24-1017:OWN100", "--ledger", folder.file("l.sqlite")])
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdoutText.contains("version 3: update in run 4 (line 01-000: description changed)"), "\(show.stdoutText)")
    }

    /// sov-ledger: show, retry, forget (which needs --yes and makes the next run export anew).
    @Test func theLedgerToolShowsAndMends() throws {
        let folder = TemporaryFolder()
        folder.write("map.csv", SpectrumExports.projectMap([("24-7000", nil, 7000)]))
        folder.write("in/contracts.csv", SpectrumExports.contracts([SpectrumExports.contract(job: "24-7000")]))
        let ledger = folder.file("l.sqlite")
        let common = ["--ledger", ledger, "--project-map", folder.file("map.csv"), "--out", folder.file("out"), folder.file("in")]
        #expect(try Tool.run("sov-run", common).status == 0)

        let show = try Tool.run("sov-ledger", ["show", "spectrum:1:24-7000:OWN100", "--ledger", ledger])
        #expect(show.status == 0)
        #expect(show.stdoutText.contains("pending\tcreate\tprocore\tspectrum:1:24-7000:OWN100\t00000001-spectrum-1-24-7000-own100-"))
        let missing = try Tool.run("sov-ledger", ["show", "spectrum:1:nope:X", "--ledger", ledger])
        #expect(missing.status == 1)
        #expect(try Tool.run("sov-ledger", ["list", "--ledger", folder.file("none.sqlite")]).status == 66)
        #expect(try Tool.run("sov-ledger", ["list", "--state", "lost", "--ledger", ledger]).status == 64)

        let refused = try Tool.run("sov-ledger", ["forget", "spectrum:1:24-7000:OWN100", "--ledger", ledger])
        #expect(refused.status == 64)
        #expect(refused.stderr.contains("--yes"))
        let forgot = try Tool.run("sov-ledger", ["forget", "spectrum:1:24-7000:OWN100", "--yes", "--ledger", ledger])
        #expect(forgot.status == 0, "\(forgot.stderr)")
        #expect(try ledgerList(ledger).isEmpty)
        let again = try Tool.run("sov-run", common)
        #expect(again.stderr.contains("1 exported"))
        #expect(try ledgerList(ledger).map { $0.text("seq") } == ["2"])

        let retry = try Tool.run("sov-ledger", ["retry", "--ledger", ledger])
        #expect(retry.status == 0)
        #expect(retry.stdoutText == "0 units back to pending\n")
    }
}
