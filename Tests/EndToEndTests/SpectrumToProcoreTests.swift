import Foundation
import SOVTestSupport
import SOVCore
import Testing

/// Spectrum exports in samples/spectrum through the built stages to Procore import JSON, stage by
/// stage, with the numbers samples/README.md promises.
struct SpectrumCSVToProcoreTests {
    static let map = "samples/project-map.csv"

    @Test func samplesFlowStageByStageFromSpectrumCSVToProcoreImports() throws {
        let folder = TemporaryFolder()

        // sov-parse: three CSV exports, jobs.csv in Windows-1252.
        let parse = try Tool.run("sov-parse", [
            "--encoding", "windows-1252", "--rejects", folder.file("parse-rejects.jsonl"),
            "samples/spectrum/jobs.csv", "samples/spectrum/sov.csv", "samples/spectrum/change_orders.csv",
        ])
        #expect(parse.status == 0, "\(parse.stderr)")
        #expect(parse.stderrLines == [
            "samples/spectrum/sov.csv: warning: [FMT008] read as UTF-8: the file is valid UTF-8 throughout, so windows-1252 does not apply to it",
            "samples/spectrum/change_orders.csv: warning: [FMT008] read as UTF-8: the file is valid UTF-8 throughout, so windows-1252 does not apply to it",
            "sov-parse: 6 in, 6 out, 0 rejected, 2 warnings",
        ])
        #expect(folder.text("parse-rejects.jsonl") == "")
        let parsed = try parse.jsonLines()
        #expect(parsed.compactMap { $0.text("kind") }.sorted() == ["change_order", "change_order", "change_order", "prime_contract", "prime_contract", "prime_contract"])
        #expect(parsed.allSatisfy { $0.text("schema") == "1" && $0.text("origin", "system") == "spectrum" && $0.text("origin", "company") == "1" })
        try checkParsedContracts(parsed)
        try checkParsedChangeOrders(parsed)

        // sov-validate: PC002 and CO003 rejected, the rest gains its Procore project.
        let validate = try Tool.run("sov-validate", ["--project-map", Self.map, "--rejects", folder.file("validate-rejects.jsonl")], stdin: parse.stdout)
        #expect(validate.status == 1)
        #expect(validate.stderrLines.count == 3)
        #expect(validate.stderrLines.first?.hasPrefix("samples/spectrum/jobs.csv:4: error: [PC002] unit price contracts are not supported") == true)
        #expect(validate.stderrLines.dropFirst().first?.hasPrefix("samples/spectrum/change_orders.csv:4: error: [CO003] change order 002: Status_Code 'P'") == true)
        #expect(validate.stderrLines.last == "sov-validate: 6 in, 4 out, 2 rejected (CO003 1, PC002 1)")
        try checkRejects(folder.jsonLines("validate-rejects.jsonl"))
        let validated = try validate.jsonLines()
        #expect(validated.count == 4)
        let projects = Dictionary(uniqueKeysWithValues: validated.map { ($0.text("origin", "job")! + "/" + $0.text("origin", "number")!, $0["procore"]) })
        #expect(projects["24-1017/SMH-2024-017"]??.text("project_id") == "2783451")
        // The samples' map names no prime contract for the jobs whose contracts SOVBridge creates.
        #expect(projects["24-1017/SMH-2024-017"]??.text("prime_contract_id") == nil)
        #expect(projects["24-1022/RUSD-CIP-22-114"]??.text("project_id") == "2783468")
        #expect(projects["24-1017/001"]??.text("prime_contract_id") == nil)
        #expect(projects["24-1022/003"]??.text("prime_contract_id") == nil)

        // sov-markup: the change orders gain their computed block; contracts pass unchanged.
        let markup = try Tool.run("sov-markup", ["--rejects", folder.file("markup-rejects.jsonl")], stdin: validate.stdout)
        #expect(markup.status == 0)
        #expect(markup.stderrLines == ["sov-markup: 4 in, 4 out, 0 rejected"])
        #expect(folder.text("markup-rejects.jsonl") == "")
        let marked = try markup.jsonLines()
        #expect(marked.filter { $0.text("kind") == "prime_contract" } == validated.filter { $0.text("kind") == "prime_contract" })
        try checkMarkup(marked)

        // sov-emit --to procore: one import object per document.
        let emit = try Tool.run("sov-emit", ["--to", "procore", "--rejects", folder.file("emit-rejects.jsonl")], stdin: markup.stdout)
        #expect(emit.status == 0)
        #expect(emit.stderrLines == ["sov-emit: 4 in, 4 out, 0 rejected"])
        #expect(folder.text("emit-rejects.jsonl") == "")
        try checkImports(try emit.jsonLines())
    }

    func checkParsedContracts(_ parsed: [JSONValue]) throws {
        let contracts = Dictionary(uniqueKeysWithValues: parsed.filter { $0.text("kind") == "prime_contract" }.map { ($0.text("origin", "job")!, $0) })
        // Codes are padded to 10 characters in jobs.csv: the job and customer come out trimmed.
        #expect(contracts.keys.sorted() == ["24-1017", "24-1022", "24-1031"])
        let expected: [(job: String, customer: String, number: String, amount: String, lines: Int, line: Int, priceMethod: String)] = [
            ("24-1017", "OWN100", "SMH-2024-017", "1250000.00", 6, 2, "F"),
            ("24-1022", "OWN200", "RUSD-CIP-22-114", "2480750.00", 8, 3, "F"),
            ("24-1031", "DOT300", "MC-DPW-2024-031", "865000.00", 3, 4, "U"),
        ]
        for contract in expected {
            let document = try #require(contracts[contract.job])
            #expect(document.text("origin", "customer") == contract.customer)
            #expect(document.text("origin", "number") == contract.number)
            #expect(document.text("number") == contract.number)
            #expect(document.text("customer", "code") == contract.customer)
            #expect(document.text("price_method") == contract.priceMethod)
            #expect(document.text("original_amount") == contract.amount)
            #expect(document.text("source", "file") == "samples/spectrum/jobs.csv")
            #expect(document.text("source", "line") == String(contract.line))
            let lines = document["lines"]?.array ?? []
            #expect(lines.count == contract.lines)
            #expect(lines.allSatisfy { $0.text("source", "file") == "samples/spectrum/sov.csv" })
            #expect(try total(lines.map { $0.text("amount") }) == money(contract.amount))
        }
        // Windows-1252 0x92 and 0x96 decoded; the comment's comma and "" quote kept.
        let stMarys = try #require(contracts["24-1017"])
        #expect(stMarys.text("customer", "name") == "St. Mary\u{2019}s Health System")
        #expect(stMarys.text("owner_name") == "St. Mary\u{2019}s Health System")
        #expect(stMarys.text("title") == "St. Mary\u{2019}s Medical Office")
        #expect(stMarys.text("description") == "Owner\u{2019}s rep: Dana Kowalski, PE; \"no retainage release before TCO\"")
        #expect(stMarys.text("contract_date") == "2024-02-16")
        #expect(stMarys.text("retainage_percent") == "10")
        #expect(stMarys["lines"]?.array.map { $0.text("code") } == ["01-000", "03-300", "05-100", "09-000", "15-000", "16-000"])
        #expect(contracts["24-1022"]?.text("owner_name") == "Riverside USD \u{2013} Facilities")
        #expect(contracts["24-1031"]?["lines"]?.array.map { $0.text("group") } == ["BID", "BID", "BID"])
    }

    func checkParsedChangeOrders(_ parsed: [JSONValue]) throws {
        let orders = Dictionary(uniqueKeysWithValues: parsed.filter { $0.text("kind") == "change_order" }.map { ($0.text("number")!, $0) })
        #expect(orders.keys.sorted() == ["001", "002", "003"])
        let canopy = try #require(orders["001"])
        #expect(canopy.text("origin", "job") == "24-1017")
        #expect(canopy.text("contract", "customer") == "OWN100")
        #expect(canopy.text("title") == "Owner\u{2019}s request: add steel canopy at main entry per ASI-04")
        #expect(canopy["approved"] == .bool(true))
        #expect(canopy.text("date") == "2024-11-04")
        #expect(canopy.text("approved_date") == "2024-11-18")
        #expect(canopy.text("schedule_impact_days") == "10")
        #expect(canopy["lines"]?.array.map { $0.text("amount") } == ["18450.00", "6275.50"])
        #expect(canopy["lines"]?.array.map { $0.text("associated_line") } == ["05-100", "03-300"])
        // Fee_Percent becomes a vertical markup named "Fee".
        #expect(canopy["markups"]?.array.count == 1)
        #expect(canopy["markups"]?.array.first?.text("name") == "Fee")
        #expect(canopy["markups"]?.array.first?.text("set") == "vertical")
        #expect(canopy["markups"]?.array.first?.text("percent") == "5")
        #expect(orders["002"]?.text("status") == "P")
        #expect(orders["002"]?["approved"] == .bool(false))
        #expect(orders["003"]?["lines"]?.array.map { $0.text("amount") } == ["-14200.00", "-1850.00"])
        #expect(orders["003"]?["markups"]?.array.isEmpty == true)
    }

    func checkRejects(_ rejects: [JSONValue]) throws {
        #expect(rejects.count == 2)
        let byCode = Dictionary(uniqueKeysWithValues: rejects.map { ($0["diagnostics"]?.array.first?.text("code") ?? "", $0) })
        let unitPrice = try #require(byCode["PC002"])
        #expect(unitPrice["diagnostics"]?.array.count == 1)
        let pc002 = try #require(unitPrice["diagnostics"]?.array.first)
        #expect(pc002.text("severity") == "error")
        #expect(pc002.text("file") == "samples/spectrum/jobs.csv")
        #expect(pc002.text("line") == "4")
        #expect(pc002.text("field") == "Price_Method_Code")
        #expect(pc002.text("value") == "U")
        // The whole document is kept, so nothing is lost.
        #expect(unitPrice.text("document", "origin", "job") == "24-1031")
        #expect(unitPrice.text("document", "original_amount") == "865000.00")
        #expect(unitPrice["document"]?["lines"]?.array.count == 3)

        let pending = try #require(byCode["CO003"])
        #expect(pending["diagnostics"]?.array.count == 1)
        let co003 = try #require(pending["diagnostics"]?.array.first)
        #expect(co003.text("file") == "samples/spectrum/change_orders.csv")
        #expect(co003.text("line") == "4")
        #expect(co003.text("field") == "Status_Code")
        #expect(co003.text("value") == "P")
        #expect(pending.text("document", "number") == "002")
        #expect(pending["document"]?["lines"]?.array.first?.text("amount") == "12980.00")
    }

    func checkMarkup(_ marked: [JSONValue]) throws {
        let orders = Dictionary(uniqueKeysWithValues: marked.filter { $0.text("kind") == "change_order" }.map { ($0.text("number")!, $0) })
        #expect(orders.keys.sorted() == ["001", "003"])
        let canopy = try #require(orders["001"]?["computed"])
        #expect(canopy.text("subtotal") == "24725.50")
        #expect(canopy["vertical"]?.array.map { [$0.text("name"), $0.text("amount")] } == [["Fee", "1236.28"]])
        let lines = canopy["lines"]?.array ?? []
        #expect(lines.map { $0.text("extended_amount") } == ["18450.00", "6275.50"])
        #expect(lines.map { $0["vertical_shares"]?.array.first?.text("amount") } == ["922.50", "313.78"])
        #expect(lines.map { $0.text("revenue") } == ["19372.50", "6589.28"])
        #expect(canopy.text("grand_total") == "25961.78")
        #expect(try total(lines.map { $0.text("revenue") }) == money("25961.78"))

        let deduct = try #require(orders["003"]?["computed"])
        #expect(deduct["vertical"]?.array.isEmpty == true)
        #expect(deduct["lines"]?.array.map { $0.text("revenue") } == ["-14200.00", "-1850.00"])
        #expect(deduct.text("subtotal") == "-16050.00")
        #expect(deduct.text("grand_total") == "-16050.00")
    }

    func checkImports(_ imports: [JSONValue]) throws {
        let byOrigin = Dictionary(uniqueKeysWithValues: imports.map { ($0.text("origin_id")!, $0) })
        #expect(byOrigin.keys.sorted() == [
            "spectrum:1:24-1017:OWN100", "spectrum:1:24-1017:OWN100:co:001",
            "spectrum:1:24-1022:OWN200", "spectrum:1:24-1022:OWN200:co:003",
        ])
        for object in imports {
            #expect(object.text("kind") == (object.text("origin_id")!.contains(":co:") ? "change_order" : "prime_contract"))
            for request in object["requests"]?.array ?? [] {
                #expect(request.text("method") == "POST")
                // Ids Procore assigns are placeholders in paths (and in the markup's holder query);
                // in a body only a change order's contract_id, when the import names that contract.
                let inBody = placeholders(in: request["body"] ?? .null)
                if object.text("contract_origin_id") != nil, request["body"]?["change_order"] != nil {
                    #expect(inBody == ["{prime_contract_id}"])
                    #expect(request.text("body", "change_order", "contract_id") == "{prime_contract_id}")
                } else {
                    #expect(inBody.isEmpty)
                }
                #expect(!placeholders(in: request["query"] ?? .null).contains("{prime_contract_id}"))
            }
        }

        let stMarys = try #require(byOrigin["spectrum:1:24-1017:OWN100"])
        #expect(stMarys.text("project_id") == "2783451")
        let requests = stMarys["requests"]?.array ?? []
        #expect(requests.count == 1 + 6)
        #expect(requests.first?.text("path") == "/rest/v1.0/prime_contract")
        let header = try #require(requests.first?["body"])
        #expect(header.text("project_id") == "2783451")
        #expect(header.text("prime_contract", "number") == "SMH-2024-017")
        #expect(header.text("prime_contract", "title") == "St. Mary\u{2019}s Medical Office")
        #expect(header.text("prime_contract", "status") == "Approved")
        #expect(header.text("prime_contract", "origin_id") == "spectrum:1:24-1017:OWN100")
        #expect(header.text("prime_contract", "retainage_percent") == "10")
        let items = requests.dropFirst()
        #expect(items.allSatisfy { $0.text("path") == "/rest/v1.0/prime_contracts/{prime_contract_id}/line_items" })
        #expect(items.map { $0["body"]?["line_item"]?["amount"] } == ["98500.00", "187250.00", "226400.00", "312875.50", "268930.25", "156044.25"].map { .string($0) })
        #expect(items.map { $0.text("body", "line_item", "origin_id") } == ["01-000", "03-300", "05-100", "09-000", "15-000", "16-000"].map { "spectrum:1:24-1017:OWN100:\($0)" })
        #expect(try total(items.map { $0.text("body", "line_item", "amount") }) == money("1250000.00"))

        let riverside = try #require(byOrigin["spectrum:1:24-1022:OWN200"])
        #expect(riverside.text("project_id") == "2783468")
        #expect(riverside["requests"]?.array.count == 1 + 8)
        #expect(try total(riverside["requests"]?.array.dropFirst().map { $0.text("body", "line_item", "amount") } ?? []) == money("2480750.00"))

        let canopy = try #require(byOrigin["spectrum:1:24-1017:OWN100:co:001"])
        let canopyRequests = canopy["requests"]?.array ?? []
        #expect(canopyRequests.count == 1 + 2 + 1)
        #expect(canopyRequests.first?.text("path") == "/rest/v1.0/projects/2783451/prime_change_orders")
        // Its contract is the one SOVBridge creates: delivery fills the id in from the ledger.
        #expect(canopyRequests.first?.text("body", "change_order", "contract_id") == "{prime_contract_id}")
        #expect(canopy.text("contract_origin_id") == "spectrum:1:24-1017:OWN100")
        #expect(canopyRequests.first?.text("body", "change_order", "number") == "001")
        #expect(canopyRequests.first?.text("body", "change_order", "status") == "approved")
        #expect(canopyRequests[1...2].map { $0["body"]?["line_item"]?["amount"] } == [.string("18450.00"), .string("6275.50")])
        #expect(canopyRequests[1...2].map { $0.text("body", "line_item", "origin_id") } == ["spectrum:1:24-1017:OWN100:co:001:line:1", "spectrum:1:24-1017:OWN100:co:001:line:2"])
        let fee = try #require(canopyRequests.last)
        #expect(fee.text("path") == "/rest/v1.0/financials/markups")
        #expect(fee.text("query", "project_id") == "2783451")
        #expect(fee.text("body", "markup", "name") == "Fee")
        #expect(fee.text("body", "markup", "markup_set") == "vertical")
        #expect(fee["body"]?["markup"]?["percentage"] == .string("5"))

        let deduct = try #require(byOrigin["spectrum:1:24-1022:OWN200:co:003"])
        let deductRequests = deduct["requests"]?.array ?? []
        #expect(deductRequests.count == 1 + 2)
        #expect(deductRequests.first?.text("body", "change_order", "contract_id") == "{prime_contract_id}")
        #expect(deduct.text("contract_origin_id") == "spectrum:1:24-1022:OWN200")
        #expect(deductRequests.dropFirst().map { $0["body"]?["line_item"]?["amount"] } == [.string("-14200.00"), .string("-1850.00")])
    }
}

/// The Data Exchange GetJobMain response and the FOR XML SOV rows make one prime contract.
struct SpectrumXMLToProcoreTests {
    @Test func getJobMainAndForXMLRowsBecomeOnePrimeContract() throws {
        let folder = TemporaryFolder()
        let stages = try Tool.pipeline([
            ("sov-parse", ["samples/spectrum/GetJobMain.xml", "samples/spectrum/sov-2040.xml"]),
            ("sov-validate", ["--project-map", "samples/project-map.csv"]),
            ("sov-markup", []),
            ("sov-emit", ["--to", "procore", "--out", folder.file("procore")]),
        ])
        #expect(stages.map(\.status) == [0, 0, 0, 0], "\(stages.map(\.stderr))")
        #expect(stages.map { $0.stderrLines.last } == [
            "sov-parse: 1 in, 1 out, 0 rejected", "sov-validate: 1 in, 1 out, 0 rejected",
            "sov-markup: 1 in, 1 out, 0 rejected", "sov-emit: 1 in, 1 out, 0 rejected",
        ])

        let parsed = try stages[0].jsonLines()
        #expect(parsed.count == 1)
        let contract = try #require(parsed.first)
        #expect(contract.text("kind") == "prime_contract")
        #expect([contract.text("origin", "company"), contract.text("origin", "job"), contract.text("origin", "customer")] == ["1", "24-2040", "OWN400"])
        #expect(contract.text("number") == "HVL-B-2025-01")
        #expect(contract.text("customer", "name") == "Bayline Development & Co.")
        #expect(contract.text("description") == "Podium + 4 stories wood frame; builder\u{2019}s risk by owner (Bayline & Co.)")
        #expect(contract.text("original_amount") == "3175400.00")
        #expect(contract.text("source", "file") == "samples/spectrum/GetJobMain.xml")
        let lines = contract["lines"]?.array ?? []
        #expect(lines.count == 8)
        #expect(lines.map { $0.text("code") } == ["01-000", "03-300", "05-100", "06-100", "07-000", "22-000", "23-000", "26-000"])
        #expect(lines.allSatisfy { $0.text("source", "file") == "samples/spectrum/sov-2040.xml" })
        #expect(lines[4].text("description") == "Thermal & Moisture Protection")
        #expect(try total(lines.map { $0.text("amount") }) == money("3175400.00"))

        // --out: one file per document, the same object as on stdout.
        #expect(stages[3].stdout.isEmpty)
        #expect(folder.names("procore") == ["spectrum_1_24-2040_OWN400.json"])
        let imported = try #require(try folder.jsonLines("procore/spectrum_1_24-2040_OWN400.json").first)
        #expect(imported.text("origin_id") == "spectrum:1:24-2040:OWN400")
        #expect(imported.text("project_id") == "2810077")
        let items = imported["requests"]?.array.dropFirst() ?? []
        #expect(items.count == 8)
        #expect(items.allSatisfy { $0.text("path") == "/rest/v1.0/prime_contracts/{prime_contract_id}/line_items" })
        #expect(try total(items.map { $0.text("body", "line_item", "amount") }) == money("3175400.00"))
    }
}
