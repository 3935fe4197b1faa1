import Testing
import SOVCore
@testable import ProcoreFormat

private func read(_ text: String, file: String = "input.json", markups: JSONValue? = nil) -> ProcoreReadResult {
    ProcoreReader.read(bytes: Array(text.utf8), file: file, markups: markups)
}

private func changeOrders(_ result: ProcoreReadResult) -> [ChangeOrder] {
    result.documents.compactMap { document in
        if case .changeOrder(let order) = document { return order }
        return nil
    }
}

/// The smallest event `request_data` that reads, with one line; `item` replaces that line's members.
private func minimalEvent(number: String = "1", item: String = #""total_amount":"10.00""#, order: String = "") -> String {
    #"{"project":{"id":1,"origin_code":"J1"},"prime_contract_change_order":{"id":5,"contract_id":2,"number":"\#(number)","status":"approved","erp_custom_fields":{"transaction_date":"2025-01-02"}\#(order)},"prime_contract_change_order_items":[{\#(item),"prime_line_item_origin_code":"100"}]}"#
}

@Suite struct EventShapeTests {
    @Test func wholeEventBecomesOneCanonicalChangeOrder() throws {
        let result = ProcoreReader.read(bytes: try Fixture.bytes("input/pcco-event.json"), file: "pcco-event.json")
        #expect(result.failure == nil)
        #expect(result.rejects.isEmpty, "\(result.rejects.map(\.diagnostics))")
        let orders = changeOrders(result)
        try #require(orders.count == 1)
        let order = orders[0]
        #expect(order.origin == Origin(system: .procore, company: "1", job: "24-1017", customer: "OWN100", number: "012"))
        #expect(order.contract == ContractKey(company: "1", job: "24-1017", customer: "OWN100"))
        #expect(order.procore == ProcoreLink(projectId: "562949953421312", primeContractId: "5000123", changeOrderId: "88001"))
        #expect(order.number == "012")
        #expect(order.title == "Exam room casework")
        #expect(order.description == "Add casework to exam rooms 3-5; credit for deleted shelving")
        #expect(order.status == "approved")
        #expect(order.approved)
        #expect(order.date == CalendarDate(year: 2025, month: 3, day: 14))
        // The date part of the timestamp as written, not converted to UTC (which is 03-21).
        #expect(order.approvedDate == CalendarDate(year: 2025, month: 3, day: 20))
        #expect(order.dueDate == CalendarDate(year: 2025, month: 4, day: 1))
        #expect(order.executed == true)
        #expect(order.scheduleImpactDays == 4)
        #expect(order.source == SourceLocation(file: "pcco-event.json", line: 1))
    }

    @Test func linesTakeTheAmountBeforeMarkupAndTheirAssociatedPrimeLine() throws {
        let order = try #require(changeOrders(ProcoreReader.read(bytes: try Fixture.bytes("input/pcco-event.json"), file: "e.json")).first)
        try #require(order.lines.count == 2)
        let first = order.lines[0]
        // total_amount (a JSON number 1200), never `amount` (1254.58, which includes markup).
        #expect(first.amount == .usd("1200.00"))
        #expect(first.description == "Casework")
        #expect(first.associatedLine == "100")
        #expect(first.associatedLineId == "7001")
        #expect(first.costCode == "06-410")
        #expect(first.costType == "S")
        #expect(first.procoreMarkup == [
            MarkupAmount(name: "Insurance", amount: .usd("12.00")),
            MarkupAmount(name: "Bond", amount: .usd("6.06")),
            MarkupAmount(name: "Fee", amount: .usd("36.52")),
        ])
        let second = order.lines[1]
        // No total_amount: extended_amount "-300.5", of scale 1.
        #expect(second.amount == .usd("-300.50"))
        // No origin code on the item: found through prime_contract_items by its id.
        #expect(second.associatedLine == "300")
        #expect(second.associatedLineId == "7003")
        #expect(second.costType == "M")
        #expect(second.procoreMarkup.map(\.amount) == [.usd("-3.01"), .usd("-1.52")])
    }

    @Test func markupDefinitionsAreCollectedOnceFromTheLines() throws {
        let order = try #require(changeOrders(ProcoreReader.read(bytes: try Fixture.bytes("input/pcco-event.json"), file: "e.json")).first)
        #expect(order.markups == [
            Markup(name: "Insurance", set: .horizontal, percent: try Percent.parse("1"), position: 1, compound: .none),
            Markup(name: "Bond", set: .horizontal, percent: try Percent.parse("0.5"), position: 2, compound: .above),
            Markup(name: "Fee", set: .vertical, percent: try Percent.parse("4"), position: 1, compound: .none, primeLineItem: "100"),
        ])
    }

    @Test func requestDataAsJSONLinesGivesOneDocumentPerLine() throws {
        let result = ProcoreReader.read(bytes: try Fixture.bytes("input/pcco-request-data.jsonl"), file: "events.jsonl")
        #expect(result.rejects.isEmpty)
        let orders = changeOrders(result)
        try #require(orders.count == 2)
        #expect(orders.map(\.number) == ["013", "014"])
        #expect(orders.map(\.source) == [
            SourceLocation(file: "events.jsonl", line: 1, record: 1), SourceLocation(file: "events.jsonl", line: 2, record: 2),
        ])
        #expect(orders[0].lines[0].amount == .usd("299.00"))
        #expect(orders[1].lines[0].amount == .usd("450.25"))
        // The Spectrum job from project.origin_code; company and customer are left to the project map.
        #expect(orders[0].origin.job == "24-1017")
        #expect(orders[0].origin.company == nil)
        #expect(orders[0].contract == nil)
        #expect(orders[0].executed == false)
        #expect(orders[1].status == "draft")
        #expect(!orders[1].approved)
        #expect(orders[1].date == CalendarDate(year: 2025, month: 4, day: 3))
        #expect(orders[1].procore?.primeContractId == "5000123")
    }

    @Test func anArrayOfEventsNamesEachElementsLine() {
        let text = "[\n" + minimalEvent(number: "1") + ",\n\n  " + minimalEvent(number: "2", item: #""total_amount":"x""#) + "\n]\n"
        let result = read(text, file: "array.json")
        #expect(changeOrders(result).map(\.number) == ["1"])
        #expect(changeOrders(result).first?.source == SourceLocation(file: "array.json", line: 2, record: 1))
        try? #require(result.rejects.count == 1)
        let diagnostic = result.rejects.first?.diagnostics.first
        #expect(diagnostic?.code == .FMT001)
        #expect(diagnostic?.location == SourceLocation(file: "array.json", line: 4, record: 2, field: "prime_contract_change_order_items[0].total_amount"))
        #expect(diagnostic?.value == "x")
    }

    @Test func amountsAsNumbersAndAsStringsOfAnyScaleReadTheSame() {
        let spellings = [#""1250.5""#, "1250.5", #""1250.500""#, "1250.50", #""1250.50""#, "1250.5000000000000000000001e0"]
        for (index, spelling) in spellings.enumerated() {
            let result = read(minimalEvent(item: #""total_amount":\#(spelling)"#))
            if index < 5 {
                #expect(changeOrders(result).first?.lines.first?.amount == .usd("1250.50"), "\(spelling)")
            } else {
                // Sub-cent digits are not an amount: never rounded, through a float or otherwise.
                #expect(result.rejects.first?.diagnostics.map(\.code) == [.FMT001], "\(spelling)")
            }
        }
        // A JSON number with an exponent is an amount when its text says one exactly.
        for spelling in ["1.2505e3", "125050E-2", "0.0012505e+6"] {
            let result = read(minimalEvent(item: #""total_amount":\#(spelling)"#))
            #expect(changeOrders(result).first?.lines.first?.amount == .usd("1250.50"), "\(spelling)")
        }
        let subCent = read(minimalEvent(item: #""total_amount":12.345"#))
        #expect(subCent.documents.isEmpty)
        #expect(subCent.rejects.first?.diagnostics.first?.code == .FMT001)
    }

    @Test(arguments: [
        ("3.969e3", "3969"), ("-125E-2", "-1.25"), ("1.5e+1", "15"), ("2e0", "2"), ("0.001e2", "0.1"), ("5e-3", "0.005"),
        ("1e40", "1" + String(repeating: "0", count: 40)),
    ])
    func exponentsMoveTheDecimalPointInTheText(text: String, plain: String) {
        #expect(ProcoreNumberText.plain(text) == plain)
    }

    @Test(arguments: ["12", "1.25", "1e41", "1.e2", ".5e1", "e5", "1e", "1e+", "--1e2", "1x5e2", "1e1000"])
    func onlyJSONNumbersWithAnExponentAreRewritten(text: String) {
        #expect(ProcoreNumberText.plain(text) == nil)
    }

    @Test func wrongTypesRejectTheDocumentWithEveryProblemAndTheBatchGoesOn() {
        let bad = minimalEvent(number: "2", item: #""total_amount":"5.00","cost_code":"not an object""#, order: #","executed":"yes","due_date":"03/01/2025""#)
        let result = read(minimalEvent(number: "1") + "\n" + bad + "\n" + minimalEvent(number: "3"))
        #expect(changeOrders(result).map(\.number) == ["1", "3"])
        try? #require(result.rejects.count == 1)
        let codes = result.rejects.first?.diagnostics.map(\.code) ?? []
        #expect(codes.sorted() == [.FMT003, .FMT010, .FMT010])
        let fields = result.rejects.first?.diagnostics.compactMap(\.location.field) ?? []
        #expect(Set(fields) == ["prime_contract_change_order_items[0].cost_code", "prime_contract_change_order.executed", "prime_contract_change_order.due_date"])
        // The raw document is kept whole in the reject.
        #expect(result.rejects.first?.record?["prime_contract_change_order"]?["number"] == .string("2"))
    }

    @Test func eventsOfOtherTypesAndNonObjectsAreRejected() {
        let other = #"{"event_type":"create_commitment_change_order","request_data":{}}"#
        let result = read("[" + other + ", 42]")
        #expect(result.documents.isEmpty)
        #expect(result.rejects.map { $0.diagnostics.first?.code } == [.FMT010, .FMT010])
    }

    @Test func missingLineAmountAndNumberAreFMT004() {
        let result = read(#"{"prime_contract_change_order":{"status":"approved"},"prime_contract_change_order_items":[{"amount":"10.00"}]}"#)
        let diagnostics = result.rejects.first?.diagnostics ?? []
        #expect(diagnostics.map(\.code) == [.FMT004, .FMT004])
        #expect(diagnostics.compactMap(\.location.field).sorted() == ["prime_contract_change_order.number", "prime_contract_change_order_items[0].total_amount"])
    }

    @Test func aMarkupDefinedTwoWaysIsRejected() {
        let share = { (percent: String) in #"{"amount":"1.00","markup":{"id":7,"markup_set":"vertical","name":"Fee","percentage":"\#(percent)","position":1}}"# }
        let text = #"{"prime_contract_change_order":{"number":"1","status":"approved"},"prime_contract_change_order_items":[{"total_amount":"1.00","markup_line_items":[\#(share("3"))]},{"total_amount":"2.00","markup_line_items":[\#(share("4"))]}]}"#
        let result = read(text)
        #expect(result.rejects.first?.diagnostics.map(\.code) == [.FMT010])
    }
}

@Suite struct PackageShapeTests {
    @Test func restPackageWithMarkupsFromAFile() throws {
        let markups = try ProcoreReader.loadMarkups(Fixture.path("input/markups.json"))
        let result = ProcoreReader.read(bytes: try Fixture.bytes("input/pcco-package.json"), file: "package.json", markups: markups)
        #expect(result.rejects.isEmpty, "\(result.rejects.map(\.diagnostics))")
        let order = try #require(changeOrders(result).first)
        #expect(order.number == "015")
        #expect(order.status == "approved" && order.approved)
        #expect(order.date == CalendarDate(year: 2025, month: 5, day: 2))
        #expect(order.dueDate == CalendarDate(year: 2025, month: 5, day: 30))
        #expect(order.scheduleImpactDays == 0)
        #expect(order.contract == ContractKey(company: "1", job: "24-1017", customer: "OWN100"))
        #expect(order.procore == ProcoreLink(projectId: "562949953421312", primeContractId: "5000123", changeOrderId: "1187001"))
        // In the REST shape `amount` is the line before markup; total_amount only when it is missing.
        #expect(order.lines.map(\.amount) == [.usd("8800.00"), .usd("650.00")])
        #expect(order.lines.map(\.associatedLine) == ["300", "100"])
        #expect(order.lines.map(\.associatedLineId) == ["7003", "7001"])
        #expect(order.lines.map(\.costCode) == ["08-410", "01-500"])
        #expect(order.lines.map(\.costType) == ["S", "L"])
        // The other contract's markup in the file is left out; Profit's prime line item id is
        // resolved to its billing item through the lines.
        #expect(order.markups == [
            Markup(name: "Insurance", set: .horizontal, percent: try Percent.parse("1"), position: 1),
            Markup(name: "Overhead", set: .vertical, percent: try Percent.parse("5"), position: 1),
            Markup(name: "Profit", set: .vertical, percent: try Percent.parse("3"), position: 2, compound: .above, primeLineItem: "100"),
        ])
    }

    @Test func restPackageWithoutMarkupsAnywhereHasNone() throws {
        let result = ProcoreReader.read(bytes: try Fixture.bytes("input/pcco-package.json"), file: "package.json")
        #expect(changeOrders(result).first?.markups == [])
    }

    @Test func theDocumentsOwnMarkupsWinAndLineSharesReferToThem() throws {
        let text = #"""
            {"number":"9","status":"Approved","date":"2025-02-03","contract_id":44,
             "markups":[{"id":1,"markup_set":"horizontal","name":"Bond","percentage":"1.0","position":1},
                        {"id":2,"markup_set":"vertical","name":"Fee","percentage":"2.5","position":1,"compound":{"type":"selective","selections":[{"id":1}]}}],
             "line_items":[{"amount":100,"prime_contract_line_item":{"billing_item_code":"200"},
                            "markup_line_items":[{"amount":"1.0","markup":{"id":1,"name":"Bond","markup_set":"horizontal","percentage":"1.0"}},
                                                 {"amount":"2.53","markup":{"id":2,"name":"Fee","markup_set":"vertical","percentage":"2.5"}}]}]}
            """#
        let other = JSONValue.array([.object(["markup_set": .string("vertical"), "name": .string("Ignored"), "percentage": .string("9"), "position": .int(1)])])
        let result = read(text, markups: other)
        #expect(result.rejects.isEmpty, "\(result.rejects.map(\.diagnostics))")
        let order = try #require(changeOrders(result).first)
        #expect(order.markups.map(\.name) == ["Bond", "Fee"])
        #expect(order.markups[1].compound == .names(["Bond"]))
        #expect(order.lines[0].procoreMarkup == [MarkupAmount(name: "Bond", amount: .usd("1.00")), MarkupAmount(name: "Fee", amount: .usd("2.53"))])
        #expect(order.status == "approved")
        #expect(order.contract == nil)
    }

    @Test func aShareOfAMarkupMissingFromTheListIsRejected() {
        let text = #"{"number":"9","status":"approved","markups":[],"line_items":[{"amount":"10.00","markup_line_items":[{"amount":"1.00","markup":{"id":8,"name":"Fee"}}]}]}"#
        let result = read(text)
        #expect(result.rejects.first?.diagnostics.map(\.code) == [.FMT004])
    }

    @Test func theSamplesReadAsTheirReadmeSays() throws {
        // The shared samples, when present in this checkout (they are not part of the fixtures).
        let root = String(Fixture.folder.dropLast("/Tests/Fixtures/procore".count))
        guard let event = try? InputFile(path: root + "/samples/procore/pcco-event.json").readAll(),
            let package = try? InputFile(path: root + "/samples/procore/pcco-package.json").readAll()
        else { return }
        let eventOrder = try #require(changeOrders(ProcoreReader.read(bytes: event, file: "pcco-event.json")).first)
        #expect(eventOrder.lines.map(\.amount) == [.usd("1000.00"), .usd("2500.00")])
        #expect(eventOrder.lines.map(\.associatedLine) == ["01-000", "16-000"])
        #expect(eventOrder.markups.map(\.name) == ["Insurance", "Contractor's Fee"])
        let packageOrder = try #require(changeOrders(ProcoreReader.read(bytes: package, file: "pcco-package.json")).first)
        #expect(packageOrder.lines.map(\.amount) == [.usd("3969.00"), .usd("1275.00")])
        #expect(packageOrder.markups.map(\.compound) == [.none, .none, .above])
        #expect(packageOrder.lines[0].procoreMarkup.map(\.amount) == [.usd("39.69"), .usd("200.43"), .usd("126.28")])
    }
}

@Suite struct ReaderInputTests {
    @Test func malformedJSONFailsTheWholeInputWithLineAndColumn() {
        let result = read(minimalEvent() + "\n" + #"{"number": "2",, }"#, file: "bad.jsonl")
        #expect(result.documents.isEmpty)
        #expect(result.rejects.isEmpty)
        let failure = result.failure
        #expect(failure?.line == 2)
        #expect(failure?.column == 16)
        #expect(failure?.status == .dataError)
        #expect(failure?.description.hasPrefix("bad.jsonl:2:16: malformed JSON") == true)
        #expect(failure?.diagnostic.code == .FMT010)
    }

    @Test func aSingleObjectHasNoRecordNumberAndAnEmptyArrayNoDocuments() {
        #expect(changeOrders(read(minimalEvent())).first?.source == SourceLocation(file: "input.json", line: 1))
        let empty = read(" [ ] ")
        #expect(empty.failure == nil && empty.documentCount == 0)
    }

    @Test func arrayElementLinesFollowStringsAndNesting() {
        let text = "\u{FEFF}[{\"a\":\"x,\\\"[\\n\"},\n {\"b\":[1,\n2]},\n\n\"s\", 7]\n{\"c\":1}\n[\n]"
        // None of these is a change order: each is rejected where it starts, numbered in order.
        let locations = read(text).rejects.map { $0.diagnostics.first?.location }
        #expect(locations.map { $0?.line } == [1, 2, 5, 5, 6])
        #expect(locations.map { $0?.record } == [1, 2, 3, 4, 5])
        #expect(read("1 2 [3]").rejects.map { $0.diagnostics.first?.location.record } == [1, 2, 3])
    }

    @Test func jsonIsRecognisedByItsFirstByte() {
        #expect(ProcoreReader.looksLikeJSON(Array("\u{FEFF}\n  {\"a\":1}".utf8)))
        #expect(ProcoreReader.looksLikeJSON(Array("[]".utf8)))
        #expect(!ProcoreReader.looksLikeJSON(Array("Company_Code,Job\n".utf8)))
        #expect(!ProcoreReader.looksLikeJSON(Array("<?xml version=\"1.0\"?>".utf8)))
    }

    @Test func markupsFileMustBeAList() throws {
        #expect(throws: Diagnostic.self) { try ProcoreReader.loadMarkups(Fixture.path("input/pcco-package.json")) }
        #expect(throws: Diagnostic.self) { try ProcoreReader.loadMarkups(Fixture.path("input/does-not-exist.json")) }
        let list = try ProcoreReader.loadMarkups(Fixture.path("input/markups.json"))
        #expect(list.arrayValue?.count == 4)
    }

    @Test func datesAreISODaysOrTheDatePartOfTimestamps() {
        #expect(ProcoreDate.parse("2025-03-14") == CalendarDate(year: 2025, month: 3, day: 14))
        #expect(ProcoreDate.parse("2025-03-14T23:59:59.123-08:00") == CalendarDate(year: 2025, month: 3, day: 14))
        #expect(ProcoreDate.parse("2025-03-14 08:00:00 UTC") == CalendarDate(year: 2025, month: 3, day: 14))
        #expect(ProcoreDate.parse("03/14/2025") == nil)
        #expect(ProcoreDate.parse("20250314") == nil)
        #expect(ProcoreDate.parse("2025-02-30") == nil)
        #expect(ProcoreDate.parse("2025-03-14junk") == nil)
    }

    @Test func statusesAreProcoreTokens() {
        #expect(ProcoreStatus.normalised(" Approved ") == "approved")
        #expect(ProcoreStatus.normalised("Not Pricing") == "not_pricing")
        #expect(ProcoreStatus.normalised("no-charge") == "no_charge")
    }
}
