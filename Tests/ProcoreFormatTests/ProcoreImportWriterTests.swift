import Testing
import SOVCore
import SOVTestSupport
@testable import ProcoreFormat

/// The fixture project map, as `sov-emit --project-map` loads it.
private func fixtureLookup() throws -> ProcoreProjectLookup {
    let map = try ProjectMap.load(Fixture.path("project-map.csv"))
    return { key in map.mapping(for: key).map { ProcoreLink(projectId: $0.projectId, primeContractId: $0.primeContractId) } }
}

private func written(_ outcome: ProcoreImportOutcome) -> ProcoreImport? {
    if case .written(let result) = outcome { return result }
    return nil
}

private func rejected(_ outcome: ProcoreImportOutcome) -> [Diagnostic] {
    if case .rejected(let diagnostics) = outcome { return diagnostics }
    return []
}

/// Every string anywhere in a JSON value, with its path.
private func strings(in value: JSONValue, at path: String = "") -> [(String, String)] {
    switch value {
    case .string(let text): return [(path, text)]
    case .array(let items): return items.enumerated().flatMap { strings(in: $0.element, at: "\(path)[\($0.offset)]") }
    case .object(let members): return members.flatMap { strings(in: $0.value, at: "\(path).\($0.key)") }
    default: return []
    }
}

@Suite struct ProcoreImportWriterTests {
    @Test func goldenImportsForTheFixtureDocuments() throws {
        let lookup = try fixtureLookup()
        var lines: [String] = []
        for document in try Fixture.documents("canonical/bound-for-procore.jsonl") {
            let result = try #require(written(ProcoreImportWriter.makeImport(for: document, projectLookup: lookup)), "\(document.displayName)")
            lines.append(result.json.text)
        }
        let golden = try Fixture.text("golden/bound-for-procore.procore.jsonl")
        #expect(lines.joined(separator: "\n") + "\n" == golden)
    }

    /// The bytes `sov-run` and `sov-emit` write (the draft, straight as bytes) are the golden
    /// lines, and the same as the tree the update plan inspects, written.
    @Test func draftBytesAreTheGoldenLinesAndTheTreeWritten() throws {
        let lookup = try fixtureLookup()
        let golden = try Fixture.text("golden/bound-for-procore.procore.jsonl").split(separator: "\n").map(String.init)
        let documents = try Fixture.documents("canonical/bound-for-procore.jsonl")
        #expect(documents.count == golden.count)
        for (document, line) in zip(documents, golden) {
            guard case .ready(let draft) = ProcoreImportWriter.draft(for: document, projectLookup: lookup) else {
                Issue.record("\(document.displayName) was rejected")
                continue
            }
            var bytes: [UInt8] = []
            draft.writeJSON(into: &bytes)
            #expect(String(decoding: bytes, as: UTF8.self) == line)
            var treeBytes: [UInt8] = []
            JSONWriter.write(draft.procoreImport.json, into: &treeBytes)
            #expect(treeBytes == bytes)
            #expect(draft.fileName == draft.procoreImport.fileName)
        }
    }

    /// Text that needs escaping, non-ASCII text and every optional field present or absent: the
    /// bytes match the tree written by `JSONWriter`, field for field.
    @Test func draftBytesMatchTheTreeForTextThatNeedsEscaping() throws {
        let lookup = try fixtureLookup()
        for document in try Fixture.documents("canonical/bound-for-procore.jsonl") {
            var changed = document
            switch document {
            case .primeContract(var contract):
                contract.title = "Quote \" back\\slash \u{1} tab\t new\nline caf\u{E9} \u{1F3D7}"
                contract.description = nil
                contract.lines = contract.lines.map { line in
                    var line = line
                    line.description = line.description.map { $0 + " \u{7F}\"" }
                    line.additionalDescription = "second & line = 2"
                    return line
                }
                changed = .primeContract(contract)
            case .changeOrder(var order):
                order.title = nil
                order.description = "Stra\u{DF}e \"Nord\"\r\n"
                order.scheduleImpactDays = -3
                changed = .changeOrder(order)
            }
            for options in ProcorePrimeContractStatus.allCases.map({ ProcoreImportOptions(primeContractStatus: $0) }) {
                guard case .ready(let draft) = ProcoreImportWriter.draft(for: changed, options: options, projectLookup: lookup) else {
                    Issue.record("\(changed.displayName) was rejected")
                    continue
                }
                var bytes: [UInt8] = []
                draft.writeJSON(into: &bytes)
                var treeBytes: [UInt8] = []
                JSONWriter.write(draft.json, into: &treeBytes)
                #expect(bytes == treeBytes, "\(changed.displayName)")
                #expect(try JSONParser.parse(String(decoding: bytes, as: UTF8.self)) == draft.procoreImport.json)
            }
        }
    }

    /// The line item requests `writeJSON` writes by pointer (`ProcoreLineItemBytes`) are the ones
    /// the tree describes: codes and texts that need escaping or percent-encoding at every place
    /// of an eight-byte word, amounts of any sign and size, and each optional field absent.
    @Test func lineItemBytesMatchTheTreeForEveryKindOfLine() throws {
        let lookup = try fixtureLookup()
        guard case .primeContract(var contract) = try Fixture.documents("canonical/bound-for-procore.jsonl").first(where: { $0.kind == "prime_contract" }) else {
            Issue.record("no prime contract in the fixture")
            return
        }
        let texts = [
            "", "A", "01-000", "plain text", "1234567", "12345678", "123456789", "quote\"", "\\back", "tab\there", "new\nline",
            "\u{1}", "x\u{7F}", "caf\u{E9} \u{1F3D7}", "0123456\"", "01234567\"", "& = % + ? # { }", "\u{1F}2345678901234567",
        ]
        let amounts: [Int64] = [0, 1, -1, 5, -5, 99, 100, -100, 123_456, -987_654_321, Int64.max, Int64.min + 1]
        var lines: [SOVLine] = []
        for (index, text) in texts.enumerated() {
            for variant in 0..<4 {
                let amount = amounts[(index + variant) % amounts.count]
                lines.append(SOVLine(
                    code: text + String(variant), description: variant == 0 || variant == 3 ? nil : "d " + text,
                    additionalDescription: variant == 1 ? nil : text + " more", amount: Money(minorUnits: amount, currency: variant == 2 ? .cad : .usd),
                    group: variant == 3 ? nil : "g/" + text))
            }
        }
        contract.lines = lines
        contract.origin.job = "24-\"1017\\"
        contract.procore = ProcoreLink(projectId: "5551234", primeContractId: nil)
        guard case .ready(let draft) = ProcoreImportWriter.draft(for: .primeContract(contract), projectLookup: lookup) else {
            Issue.record("the contract was rejected")
            return
        }
        var bytes: [UInt8] = [UInt8(ascii: "x")]
        draft.writeJSON(into: &bytes)
        var treeBytes: [UInt8] = [UInt8(ascii: "x")]
        JSONWriter.write(draft.json, into: &treeBytes)
        #expect(bytes == treeBytes)
        #expect(draft.json["requests"]?.arrayValue?.count == lines.count + 1)

        // Written into an array that holds more before it, or nothing; with one line, or none.
        for (prefix, someLines) in [(Array("{\"earlier\":1}\n".utf8), Array(lines.prefix(1))), ([], []), (Array(repeating: UInt8(ascii: " "), count: 5_000), lines)] {
            contract.lines = someLines
            guard case .ready(let draft) = ProcoreImportWriter.draft(for: .primeContract(contract), projectLookup: lookup) else { continue }
            var bytes = prefix
            draft.writeJSON(into: &bytes)
            var treeBytes = prefix
            JSONWriter.write(draft.json, into: &treeBytes)
            #expect(bytes == treeBytes, "\(prefix.count) bytes before, \(someLines.count) lines")
        }
    }

    @Test func amountsAreSpelledAsMoneyDescriptionSpellsThem() {
        for units: Int64 in [0, 7, -7, 10, 99, -100, 101, 1_000_000, -1_234_567_890_123, Int64.max, Int64.min] {
            for currency in [Currency.usd, Currency(code: "JPY", minorDigits: 0), Currency(code: "XBH", minorDigits: 6)] {
                let money = Money(minorUnits: units, currency: currency)
                var out = [UInt8](repeating: 0, count: 32)
                let count = out.withUnsafeMutableBufferPointer { ProcoreLineItemBytes.amount(money, into: $0.baseAddress!) }
                #expect(String(decoding: out[..<count], as: UTF8.self) == money.description)
            }
        }
    }

    @Test func primeContractRequestsCreateTheContractThenEachLine() throws {
        let document = try Fixture.documents("canonical/bound-for-procore.jsonl")[0]
        let result = try #require(written(ProcoreImportWriter.makeImport(for: document, projectLookup: try fixtureLookup())))
        #expect(result.kind == "prime_contract")
        #expect(result.originId == "spectrum:1:24-1017:OWN100")
        #expect(result.projectId == "562949953421312")
        #expect(result.fileName == "spectrum_1_24-1017_OWN100.json")
        #expect(result.requests.map(\.path) == ["/rest/v1.0/prime_contract"] + Array(repeating: "/rest/v1.0/prime_contracts/{prime_contract_id}/line_items", count: 3))
        let contract = try #require(result.requests[0].body["prime_contract"])
        #expect(result.requests[0].body["project_id"] == .number("562949953421312"))
        #expect(contract["status"] == .string("Approved"))
        #expect(contract["executed"] == .bool(true))
        #expect(contract["retainage_percent"] == .string("10"))
        #expect(contract["accounting_method"] == .string("amount"))
        #expect(contract["contract_start_date"] == .string("2025-02-01"))
        #expect(result.requests.dropFirst().map { $0.body["line_item"]?["origin_id"] } == [
            .string("spectrum:1:24-1017:OWN100:100"), .string("spectrum:1:24-1017:OWN100:200"), .string("spectrum:1:24-1017:OWN100:300"),
        ])
        #expect(result.requests.dropFirst().map { $0.body["line_item"]?["amount"] } == [.string("25000.00"), .string("40000.00"), .string("60000.00")])
    }

    @Test func primeContractStatusIsConfigurable() throws {
        let document = try Fixture.documents("canonical/bound-for-procore.jsonl")[0]
        let options = ProcoreImportOptions(primeContractStatus: try #require(ProcorePrimeContractStatus.named("out_for_signature")))
        let result = try #require(written(ProcoreImportWriter.makeImport(for: document, options: options, projectLookup: try fixtureLookup())))
        #expect(result.requests[0].body["prime_contract"]?["status"] == .string("Out For Signature"))
        #expect(result.requests[0].body["prime_contract"]?["executed"] == .bool(false))
        #expect(ProcorePrimeContractStatus.named("Approved") == .approved)
        #expect(ProcorePrimeContractStatus.named("approve") == nil)
    }

    @Test func changeOrderCreatesTheOrderItsLinesAndItsMarkupsInPositionOrder() throws {
        let document = try Fixture.documents("canonical/bound-for-procore.jsonl")[2]
        let result = try #require(written(ProcoreImportWriter.makeImport(for: document, projectLookup: try fixtureLookup())))
        #expect(result.originId == "spectrum:1:24-1017:OWN100:co:003")
        #expect(result.requests.map(\.path) == [
            "/rest/v1.0/projects/562949953421312/prime_change_orders",
            "/rest/v1.0/potential_change_orders/{potential_change_order_id}/line_items",
            "/rest/v1.0/potential_change_orders/{potential_change_order_id}/line_items",
            "/rest/v1.0/financials/markups", "/rest/v1.0/financials/markups", "/rest/v1.0/financials/markups",
        ])
        let order = try #require(result.requests[0].body["change_order"])
        #expect(order["contract_id"] == .number("5000123"))
        #expect(order["status"] == .string("approved"))
        #expect(order["schedule_impact_amount"] == .number("5"))
        #expect(order["due_date"] == .string("2025-04-01"))
        let markups = result.requests.suffix(3).map { $0.body["markup"] }
        #expect(markups.map { $0?["name"] } == [.string("Insurance"), .string("Bond"), .string("Fee")])
        #expect(markups.map { $0?["percentage"] } == [.string("1"), .string("0.75"), .string("3")])
        #expect(markups[1]?["compound"] == .object(["type": .string("above")]))
        #expect(markups[0]?["compound"] == nil)
        #expect(result.requests[3].query == [
            JSONMember("project_id", .string("562949953421312")),
            JSONMember("holder_type", .string("PotentialChangeOrder")),
            JSONMember("holder_id", .string("{potential_change_order_id}")),
        ])
    }

    @Test func theDocumentsOwnProcoreLinkComesBeforeTheMap() throws {
        // Change order 7 carries procore {project 562949953421400, prime contract 5000777}; the
        // map's row for its job has no prime contract id at all.
        let document = try Fixture.documents("canonical/bound-for-procore.jsonl")[3]
        let result = try #require(written(ProcoreImportWriter.makeImport(for: document, projectLookup: try fixtureLookup())))
        #expect(result.requests[0].body["change_order"]?["contract_id"] == .number("5000777"))
        #expect(result.requests[1].body["line_item"]?["amount"] == .string("-310.25"))
        // And without any map at all.
        #expect(written(ProcoreImportWriter.makeImport(for: document)) != nil)
    }

    @Test func placeholdersAppearInPathsAndQueriesButNeverInBodies() throws {
        let lookup = try fixtureLookup()
        for document in try Fixture.documents("canonical/bound-for-procore.jsonl") {
            let result = try #require(written(ProcoreImportWriter.makeImport(for: document, projectLookup: lookup)))
            for request in result.requests {
                for (path, text) in strings(in: request.body) {
                    #expect(!text.contains("{") || !text.contains("}"), "placeholder-like text at body\(path): \(text)")
                }
                #expect(!request.path.contains("{") || request.path.contains(ProcorePlaceholder.primeContractId) || request.path.contains(ProcorePlaceholder.potentialChangeOrderId))
            }
        }
    }

    /// The rules the validator and this writer both check are said in the same words (Rulebook).
    @Test func theWriterSaysARuleAsTheValidatorDoes() throws {
        let lookup = try fixtureLookup()
        for document in try Fixture.documents("canonical/not-for-procore.jsonl") {
            let said = rejected(ProcoreImportWriter.makeImport(for: document, projectLookup: lookup))
            switch document {
            case .changeOrder(let order):
                if let rule = Rulebook.approval(order) { #expect(said.contains(rule), "\(rule.humanLine)") }
                if said.contains(where: { $0.code == .MAP001 }), let key = order.contract ?? order.origin.contractKey {
                    #expect(said.contains(Rulebook.unmappedJob(key, at: order.source, projectMap: nil)))
                }
            case .primeContract(let contract):
                for rule in Rulebook.unitPrice(contract) { #expect(said.contains(rule), "\(rule.humanLine)") }
            }
        }
    }

    @Test func documentsProcoreCannotTakeAreRejectedWithTheirCodes() throws {
        let lookup = try fixtureLookup()
        let outcomes = try Fixture.documents("canonical/not-for-procore.jsonl").map {
            rejected(ProcoreImportWriter.makeImport(for: $0, projectLookup: lookup)).map(\.code)
        }
        #expect(outcomes == [[.CO003], [.MKP002], [.MAP001], [.FMT009], []])
    }

    /// A change order whose contract has no id in the map follows the contract SOVBridge
    /// creates: its body holds the placeholder, and the import names that contract's origin id.
    @Test func withoutAMappedPrimeContractIdTheChangeOrderNamesItsContract() throws {
        let lookup = try fixtureLookup()
        let document = try Fixture.documents("canonical/not-for-procore.jsonl")[4]
        let result = try #require(written(ProcoreImportWriter.makeImport(for: document, projectLookup: lookup)))
        #expect(result.requests.first?.body["change_order"]?["contract_id"] == .string(ProcorePlaceholder.primeContractId))
        let key = try #require(document.origin.contractKey)
        #expect(result.contractOriginId == key.originId)
        #expect(result.json["contract_origin_id"] == .string(key.originId))
    }

    @Test func withoutAMapOrLinkTheProjectIsUnknown() throws {
        let document = try Fixture.documents("canonical/bound-for-procore.jsonl")[0]
        let diagnostics = rejected(ProcoreImportWriter.makeImport(for: document))
        #expect(diagnostics.map(\.code) == [.MAP001])
        #expect(diagnostics.first?.location.file == "samples/spectrum/jobs.csv")
        #expect(diagnostics.first?.location.line == 2)
    }

    @Test func unitPriceContractsAndBadIdsAreRejected() throws {
        guard case .primeContract(var contract) = try Fixture.documents("canonical/bound-for-procore.jsonl")[0] else {
            Issue.record("fixture 0 is a prime contract")
            return
        }
        contract.priceMethod = "U"
        contract.procore = ProcoreLink(projectId: "0123")
        #expect(rejected(ProcoreImportWriter.makeImport(for: .primeContract(contract))).map(\.code) == [.PC002, .MAP001])
    }

    @Test func selectiveCompoundingAndOtherCalculationsCannotBeImported() throws {
        guard case .changeOrder(var order) = try Fixture.documents("canonical/bound-for-procore.jsonl")[2] else {
            Issue.record("fixture 2 is a change order")
            return
        }
        order.markups[2].compound = .names(["Insurance"])
        order.markups[0].calculation = "margin"
        let diagnostics = rejected(ProcoreImportWriter.makeImport(for: .changeOrder(order), projectLookup: try fixtureLookup()))
        #expect(diagnostics.map(\.code) == [.MKP002, .MKP002])
        #expect(Set(diagnostics.compactMap(\.location.field)) == ["markups[0]", "markups[2]"])
    }

    @Test func aMarkupDirectedToABillingItemIsWrittenWithAWarning() throws {
        guard case .changeOrder(var order) = try Fixture.documents("canonical/bound-for-procore.jsonl")[2] else {
            Issue.record("fixture 2 is a change order")
            return
        }
        order.markups[0].primeLineItem = "300"
        let result = try #require(written(ProcoreImportWriter.makeImport(for: .changeOrder(order), projectLookup: try fixtureLookup())))
        #expect(result.warnings.map(\.severity) == [.warning])
        #expect(result.requests.last?.body["markup"]?["prime_line_item_id"] == nil)
    }

    @Test func readerOutputForSpectrumIsNotSentBackToProcore() throws {
        let read = ProcoreReader.read(bytes: try Fixture.bytes("input/pcco-event.json"), file: "e.json")
        let document = try #require(read.documents.first)
        #expect(rejected(ProcoreImportWriter.makeImport(for: document, projectLookup: try fixtureLookup())).map(\.code) == [.FMT009])
    }
}

/// Issue #18: every Spectrum field with a home in the documented bodies reaches it.
@Suite struct ProcoreFieldsReachTheBodies {
    static let key = ContractKey(company: "1", job: "24-1017", customer: "OWN100")
    static func lookup(_ key: ContractKey) -> ProcoreLink? { ProcoreLink(projectId: "2783451", primeContractId: "31504417") }

    @Test func sovLinesKeepTheBillingItemAndTheSecondDescription() throws {
        let contract = PrimeContract(
            origin: Origin(system: .spectrum, company: "1", job: "24-1017", customer: "OWN100"), source: SourceLocation(file: "jobs.csv", line: 2),
            number: "SMH-2024-017", status: "A", customer: Party(code: "OWN100", name: "St. Mary's & Co"), ownerName: "St. Mary's Health",
            priceMethod: "F", originalAmount: try Money.parse("300.00"), completionDate: CalendarDate(year: 2025, month: 11, day: 30),
            lines: [
                SOVLine(code: "01-000", description: "General conditions", additionalDescription: "Bonds {and} insurance = 2%", amount: try Money.parse("100.00"), group: "GC"),
                SOVLine(code: "02-000", description: nil, additionalDescription: "Sitework only", amount: try Money.parse("200.00")),
            ])
        guard case .written(let made) = ProcoreImportWriter.makeImport(for: .primeContract(contract), projectLookup: Self.lookup) else {
            Issue.record("rejected")
            return
        }
        let header = try #require(made.requests[0].body["prime_contract"])
        #expect(header["actual_completion_date"] == .string("2025-11-30"))
        #expect(header["origin_data"] == .string("customer_code=OWN100&customer_name=St.%20Mary%27s%20%26%20Co&owner_name=St.%20Mary%27s%20Health&status_code=A&price_method_code=F"))
        let first = try #require(made.requests[1].body["line_item"])
        #expect(first["description"] == .string("General conditions"))
        // Braces, `&` and `=` are encoded: no body string can look like a {placeholder}.
        #expect(first["origin_data"] == .string("billing_item=01-000&additional_description=Bonds%20%7Band%7D%20insurance%20%3D%202%25&group_code=GC"))
        let second = try #require(made.requests[2].body["line_item"])
        #expect(second["description"] == .string("Sitework only"))
        #expect(second["origin_data"] == .string("billing_item=02-000"))
    }

    @Test func changeOrdersKeepTheApprovedDateAndTheLinkToTheirSOVLine() throws {
        let order = ChangeOrder(
            origin: Origin(system: .spectrum, company: "1", job: "24-1017", customer: "OWN100", number: "001"), source: SourceLocation(file: "change_orders.csv", line: 2),
            number: "001", title: "Storm drain", description: "Storm drain", status: "A", approved: true,
            date: CalendarDate(year: 2025, month: 3, day: 14), approvedDate: CalendarDate(year: 2025, month: 3, day: 12), scheduleImpactDays: 2,
            contract: Self.key,
            lines: [
                ChangeOrderLine(description: "North", amount: try Money.parse("1000.00"), quantity: "4", unitPrice: try Money.parse("250.00"), associatedLine: "05-100", additionalDescription: "North", group: "G1"),
                ChangeOrderLine(description: nil, amount: try Money.parse("-50.00"), associatedLine: "03-300", associatedLineId: "9876"),
            ])
        guard case .written(let made) = ProcoreImportWriter.makeImport(for: .changeOrder(order), projectLookup: Self.lookup) else {
            Issue.record("rejected")
            return
        }
        let header = try #require(made.requests[0].body["change_order"])
        #expect(header["signed_change_order_received_date"] == .string("2025-03-12"))
        #expect(header["schedule_impact_amount"] == .int(2))
        #expect(made.requests[1].body["line_item"]?["origin_data"] == .string("prime_line_item_origin_id=spectrum:1:24-1017:OWN100:05-100&billing_item=05-100&group_code=G1&quantity=4&unit_price=250.00"))
        #expect(made.requests[2].body["line_item"]?["origin_data"] == .string("prime_line_item_origin_id=spectrum:1:24-1017:OWN100:03-300&prime_line_item_id=9876&billing_item=03-300"))
        // The link is the origin id the contract's import gave that SOV line.
        let contract = PrimeContract(
            origin: Origin(system: .spectrum, company: "1", job: "24-1017", customer: "OWN100"), source: SourceLocation(file: "jobs.csv", line: 2),
            number: "C", customer: Party(code: "OWN100"), originalAmount: try Money.parse("1.00"),
            lines: [SOVLine(code: "05-100", amount: try Money.parse("1.00"))])
        guard case .written(let contractImport) = ProcoreImportWriter.makeImport(for: .primeContract(contract), projectLookup: Self.lookup) else {
            Issue.record("rejected")
            return
        }
        #expect(contractImport.requests[1].body["line_item"]?["origin_id"] == .string("spectrum:1:24-1017:OWN100:05-100"))
    }

    @Test func originDataEncoding() {
        #expect(OriginData.text([("a", nil), ("b", nil)]) == nil)
        #expect(OriginData.text([("a", "x y"), ("b", nil), ("c", "é&=+%{}")]) == "a=x%20y&c=%C3%A9%26%3D%2B%25%7B%7D")
        #expect(OriginData.encoded("spectrum:1:24-1017:OWN100/01.0_~") == "spectrum:1:24-1017:OWN100/01.0_~")
        #expect(OriginData.text([("", "")]) == "=")
        #expect(OriginData.text([("a", ""), ("b", "")]) == "a=&b=")
    }

    /// The first version, built a String per character: the oracle the byte writer must match.
    static func oracleText(_ fields: [(String, String?)]) -> String? {
        func encoded(_ value: String) -> String {
            var result = ""
            for byte in value.utf8 {
                switch byte {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                    UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: ":"), UInt8(ascii: "/"):
                    result.unicodeScalars.append(Unicode.Scalar(byte))
                default:
                    let digits = Array("0123456789ABCDEF".unicodeScalars)
                    result += "%"
                    result.unicodeScalars.append(digits[Int(byte >> 4)])
                    result.unicodeScalars.append(digits[Int(byte & 0x0F)])
                }
            }
            return result
        }
        let pairs = fields.compactMap { key, value in value.map { "\(key)=\(encoded($0))" } }
        return pairs.isEmpty ? nil : pairs.joined(separator: "&")
    }

    @Test func originDataAgreesWithTheFirstVersion() {
        var random = SplitMix64(seed: 42)
        func next() -> UInt64 { random.next() }
        let pieces = ["01-000", "General Conditions", "é", "&", "=", "%", "+", " ", "/", ":", "~", "中", "🏗️", "\u{0}", "\n", "\"", ""]
        for _ in 0..<500 {
            let fields: [(String, String?)] = (0..<Int(next() % 4)).map { index in
                ("k\(index)", next() % 4 == 0 ? nil : (0..<Int(next() % 4)).map { _ in pieces[Int(next() % UInt64(pieces.count))] }.joined())
            }
            #expect(OriginData.text(fields) == Self.oracleText(fields))
        }
    }
}

