import Foundation
import SOVTestSupport
import SOVCore
import SpectrumFormat
import Testing

/// Procore change orders in samples/procore through the built stages to Spectrum Data Exchange
/// import XML, read back with the project's own XML record reader.
struct ProcoreToSpectrumTests {
    /// One Spectrum import record: its fields by name (each name once in these layouts).
    struct SpectrumRecord {
        var fields: [String: String]
        subscript(name: String) -> String? { fields[name] }
    }

    /// sov-parse -> sov-validate -> sov-markup on both Procore samples.
    static func markedUp() throws -> [ProcessOutcome] {
        try Tool.pipeline([
            ("sov-parse", ["samples/procore/pcco-event.json", "samples/procore/pcco-package.json"]),
            ("sov-validate", ["--project-map", "samples/project-map.csv"]),
            ("sov-markup", []),
        ])
    }

    static func records(_ xml: Data, in folder: TemporaryFolder) throws -> [SpectrumRecord] {
        let path = folder.write("spectrum-\(UUID().uuidString).xml", xml)
        let reader = try XMLRecordReader(InputFile(path: path))
        var records: [SpectrumRecord] = []
        while let item = try reader.next() {
            switch item {
            case .record(let record):
                records.append(SpectrumRecord(fields: Dictionary(zip(record.names, record.values)) { first, _ in first }))
            case .malformed(_, let diagnostic):
                Issue.record("the emitted XML has a malformed record: \(diagnostic.humanLine)")
            }
        }
        return records
    }

    static func isSpectrumDate(_ text: String?) -> Bool {
        guard let text else { return false }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        return parts.map(\.count) == [2, 2, 4] && parts.allSatisfy { $0.allSatisfy(\.isNumber) }
    }

    @Test func procoreSamplesPassEveryStageWithTheMapSupplyingTheSpectrumContract() throws {
        let stages = try Self.markedUp()
        #expect(stages.map(\.status) == [0, 0, 0], "\(stages.map(\.stderr))")
        #expect(stages[0].stderrLines == ["sov-parse: 2 in, 2 out, 0 rejected"])
        // Procore does not know Spectrum's customer: the map supplies the contract, and says so.
        #expect(stages[1].stderrLines == [
            "samples/procore/pcco-event.json:1: warning: [MAP004] Spectrum contract 1/24-1017/OWN100 taken from the project map samples/project-map.csv (field contract, value '1/24-1017/OWN100')",
            "samples/procore/pcco-package.json:1: warning: [MAP004] Spectrum contract 1/24-1022/OWN200 taken from the project map samples/project-map.csv (field contract, value '1/24-1022/OWN200')",
            "sov-validate: 2 in, 2 out, 0 rejected, 2 warnings",
        ])
        #expect(stages[2].stderrLines == ["sov-markup: 2 in, 2 out, 0 rejected"])

        let orders = try stages[2].jsonLines()
        #expect(orders.map { $0.text("origin", "system") } == ["procore", "procore"])
        #expect(orders.map { $0.text("number") } == ["007", "004"])
        #expect(orders.map { [$0.text("contract", "company"), $0.text("contract", "job"), $0.text("contract", "customer")] } == [["1", "24-1017", "OWN100"], ["1", "24-1022", "OWN200"]])
        // Procore's amounts arrive as "1000.0", 3969.0 and "1275.0": read exactly, written at scale 2.
        #expect(orders[1]["lines"]?.array.map { $0.text("amount") } == ["3969.00", "1275.00"])
        let event = try #require(orders.first?["computed"])
        #expect(event["lines"]?.array.map { $0["horizontal"]?.array.first?.text("amount") } == ["10.00", "25.00"])
        #expect(event["lines"]?.array.map { $0.text("extended_amount") } == ["1010.00", "2525.00"])
        #expect(event.text("subtotal") == "3535.00")
        #expect(event["vertical"]?.array.map { [$0.text("name"), $0.text("amount")] } == [["Contractor's Fee", "106.05"]])
        #expect(event.text("grand_total") == "3641.05")
        let package = try #require(orders.last?["computed"])
        #expect(package.text("subtotal") == "5296.44")
        #expect(package["vertical"]?.array.map { [$0.text("name"), $0.text("amount")] } == [["Overhead", "264.82"], ["Profit", "166.84"]])
        #expect(package.text("grand_total") == "5728.10")
    }

    @Test func changeRequestsHaveEstimatesPerPhaseAndRevenuePerBillingItem() throws {
        let folder = TemporaryFolder()
        let stages = try Self.markedUp()
        let orders = try stages[2].jsonLines()
        let emit = try Tool.run("sov-emit", ["--to", "spectrum", "--project-map", "samples/project-map.csv"], stdin: stages[2].stdout)
        #expect(emit.status == 0, "\(emit.stderr)")
        #expect(emit.stderrLines.last == "sov-emit: 2 in, 2 out, 0 rejected, 4 warnings")
        let records = try Self.records(emit.stdout, in: folder)
        #expect(records.count == 8)

        let expected: [(number: String, job: String, customer: String, date: String, approved: String?, days: String, estimates: [String: String], billing: [String: String])] = [
            ("007", "24-1017", "OWN100", "03/14/2025", "03/12/2025", "2",
             ["01500/S": "1000.00", "16100/M": "2500.00"], ["01-000": "1040.30", "16-000": "2600.75"]),
            ("004", "24-1022", "OWN200", "04/02/2025", nil, "3",
             ["03310/L": "3969.00", "05500/S": "1275.00"], ["03-300": "4335.40", "05-100": "1392.70"]),
        ]
        var guids: Set<String> = []
        for order in expected {
            let mine = records.filter { $0["Change_Request_Number"] == order.number }
            #expect(mine.count == order.estimates.count + order.billing.count)
            // The header, repeated on every record.
            for record in mine {
                #expect(record["Company_Code"] == "1")
                #expect(record["Job_Number"] == order.job)
                #expect(record["Customer_Code"] == order.customer)
                #expect(record["CR_Status"] == "A")
                #expect(record["Origination_Date"] == order.date)
                #expect(record["Approved_Date"] == order.approved)
                #expect(record["Approved_Days"] == order.days)
                for name in ["Origination_Date", "Approved_Date"] where record[name] != nil {
                    #expect(Self.isSpectrumDate(record[name]), "\(name) \(record[name] ?? "")")
                }
            }
            let orderGUIDs = Set(mine.compactMap { $0["GUID"] })
            #expect(orderGUIDs.count == 1, "one GUID per change request")
            guids.formUnion(orderGUIDs)

            let estimates = mine.filter { $0["CR_Phase_Code"] != nil }
            var estimateAmounts: [String: String] = [:]
            for record in estimates {
                estimateAmounts["\(record["CR_Phase_Code"] ?? "")/\(record["CR_Cost_Type"] ?? "")"] = record["Change_Request_Amount"]
            }
            #expect(estimates.count == order.estimates.count)
            #expect(estimateAmounts == order.estimates)

            let billing = mine.filter { $0["CR_Billing_Item_Code"] != nil }
            var revenues: [String: String] = [:]
            for record in billing { revenues[record["CR_Billing_Item_Code"] ?? ""] = record["CR_Revenue"] }
            #expect(billing.count == order.billing.count)
            #expect(revenues == order.billing)
            #expect(billing.allSatisfy { ($0["CR_Billing_Item_Description"]?.count ?? 0) <= 30 })

            // Billing revenue adds up to the grand total sov-markup computed; estimates to the
            // lines before markup.
            let document = try #require(orders.first { $0.text("number") == order.number })
            #expect(try total(billing.map { $0["CR_Revenue"] }) == money(document.text("computed", "grand_total") ?? ""))
            #expect(try total(estimates.map { $0["Change_Request_Amount"] }) == total(document["lines"]?.array.map { $0.text("amount") } ?? []))
        }
        #expect(guids.count == 2)
        #expect(try total(records.filter { $0["Change_Request_Number"] == "007" }.map { $0["CR_Revenue"] }.filter { $0 != nil }) == money("3641.05"))
        #expect(try total(records.filter { $0["Change_Request_Number"] == "004" }.map { $0["CR_Revenue"] }.filter { $0 != nil }) == money("5728.10"))
    }

    @Test func changeOrderLayoutPutsTheVerticalMarkupInFeeAmount() throws {
        let folder = TemporaryFolder()
        let stages = try Self.markedUp()
        let emit = try Tool.run("sov-emit", ["--to", "spectrum", "--spectrum-layout", "change-order"], stdin: stages[2].stdout, environment: ["SPECTRUM_AUTHORIZATION_ID": "e2e-auth"])
        #expect(emit.status == 0, "\(emit.stderr)")
        let records = try Self.records(emit.stdout, in: folder)
        #expect(records.count == 4)
        let expected: [(number: String, job: String, date: String, revenue: [String: String], fee: String, grandTotal: String)] = [
            ("007", "24-1017", "03/14/2025", ["01-000": "1010.00", "16-000": "2525.00"], "106.05", "3641.05"),
            ("004", "24-1022", "04/02/2025", ["03-300": "4008.69", "05-100": "1287.75"], "431.66", "5728.10"),
        ]
        for order in expected {
            let mine = records.filter { $0["Change_Order_Number"] == order.number }
            var revenues: [String: String] = [:]
            for record in mine { revenues[record["CO_Billing_Item_Code"] ?? ""] = record["Revenue"] }
            #expect(revenues == order.revenue)
            #expect(mine.allSatisfy { $0["Job_Number"] == order.job && $0["Change_Order_Date"] == order.date && $0["Status_Code"] == "A" })
            // Fee_Amount is header-level (repeated); Fee_Percent blank so Spectrum keeps the amount.
            #expect(mine.allSatisfy { $0["Fee_Amount"] == order.fee && $0["Fee_Percent"] == "" })
            #expect(try total(mine.map { $0["Revenue"] }) + money(order.fee) == money(order.grandTotal))
            #expect(mine.allSatisfy { $0["Authorization_ID"] == "e2e-auth" })
        }
    }

    @Test func authorizationIdComesFromTheEnvironmentOrAWarningSaysItIsMissing() throws {
        let folder = TemporaryFolder()
        let input = try Self.markedUp()[2].stdout

        let withId = try Tool.run("sov-emit", ["--to", "spectrum"], stdin: input, environment: ["SPECTRUM_AUTHORIZATION_ID": "7f3c-e2e"])
        #expect(withId.status == 0)
        let authorized = try Self.records(withId.stdout, in: folder)
        #expect(authorized.count == 8)
        #expect(authorized.allSatisfy { $0["Authorization_ID"] == "7f3c-e2e" })
        #expect(!withId.stderr.contains("Authorization_ID"))
        #expect(withId.stderrLines.last == "sov-emit: 2 in, 2 out, 0 rejected, 3 warnings")

        let without = try Tool.run("sov-emit", ["--to", "spectrum"], stdin: input)
        #expect(without.status == 0)
        let unauthorized = try Self.records(without.stdout, in: folder)
        #expect(unauthorized.allSatisfy { $0["Authorization_ID"] == "" })
        let warning = without.stderrLines.filter { $0.contains("warning: [FMT004] no Spectrum Authorization_ID") }
        #expect(warning.count == 1)
        #expect(warning.first?.contains("SPECTRUM_AUTHORIZATION_ID") == true)
        // A setting, not an input: the line names no file.
        #expect(warning.first?.hasPrefix("warning: ") == true)
    }
}
