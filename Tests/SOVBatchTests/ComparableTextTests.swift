import Foundation
import SOVTestSupport
import SOVBatch
import SOVCore
import Testing

/// `ContentHash.comparableText` writes the comparable form straight from the document. Ledgers
/// hold hashes of the text the first version made (filter the document's tree, then write it),
/// so the two must agree byte for byte, or an upgrade would call every document "updated". The
/// first version is kept here as the oracle.
enum ComparableOracle {
    static func comparable(_ document: CanonicalDocument) -> JSONValue {
        guard case .object(let members) = document.json else { return document.json }
        return .object(members.filter { $0.key != "diagnostics" && $0.key != "source" && $0.key != "erp" }.map { JSONMember($0.key, withoutSource($0.value)) })
    }

    private static func withoutSource(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let members): .object(members.filter { $0.key != "source" }.map { JSONMember($0.key, withoutSource($0.value)) })
        case .array(let values): .array(values.map(withoutSource))
        default: value
        }
    }
}

/// Canonical documents of every kind, made at random from text: each optional member present,
/// null or absent; strings with quotes, backslashes, control characters, DEL, non-ASCII and the
/// word "source"; unit-priced lines, line sources, markups of every compounding, computed
/// markup, Procore links, ERP loops, diagnostics.
struct RandomCanonical {
    var random: SplitMix64

    mutating func chance(_ percent: UInt64) -> Bool { random.next() % 100 < percent }
    mutating func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }

    mutating func text() -> String {
        let pieces = ["A", "General Conditions", "\"quoted\"", "back\\slash", "tab\there", "line\nbreak", "\r", "\u{0}", "\u{1F}", "\u{7F}",
                      "é", "Owner’s", "中文", "🏗️", "שלום", "source", "diagnostics", "erp", "/", "\u{2028}", " ", ""]
        return (0..<Int(random.next() % 4 + 1)).map { _ in pick(pieces) }.joined()
    }

    mutating func optionalText() -> JSONValue { chance(30) ? .null : .string(text()) }
    mutating func amount() -> JSONValue { .string((chance(20) ? "-" : "") + String(random.next() % 1_000_000) + "." + String(format: "%02d", Int(random.next() % 100))) }
    mutating func date() -> JSONValue { chance(30) ? .null : .string("2025-\(String(format: "%02d", Int(random.next() % 12 + 1)))-\(String(format: "%02d", Int(random.next() % 28 + 1)))") }

    mutating func source() -> JSONValue {
        var members = [JSONMember("file", chance(10) ? .null : .string(text())), JSONMember("line", chance(10) ? .null : .number(String(random.next() % 9000)))]
        if chance(30) { members.append(JSONMember("record", .number(String(random.next() % 90)))) }
        return .object(members)
    }

    mutating func diagnostics() -> JSONValue {
        .array((0..<Int(random.next() % 3)).map { _ in
            Diagnostic.warning(pick([.FMT004, .FMT005, .DEP001]), text(), at: SourceLocation(file: text(), line: Int(random.next() % 50))).json
        })
    }

    /// Members in the order the codec writes them, with some optional ones left out.
    mutating func object(_ members: [(String, JSONValue)]) -> JSONValue {
        .object(members.compactMap { chance(8) && !["kind", "schema", "origin", "number", "code", "amount", "name", "set", "position", "approved", "lines", "customer"].contains($0.0) ? nil : JSONMember($0.0, $0.1) })
    }

    mutating func head(_ kind: String) -> [(String, JSONValue)] {
        let origin: JSONValue = .object([
            JSONMember("system", .string(pick(["spectrum", "procore"]))), JSONMember("company", optionalText()), JSONMember("job", optionalText()),
            JSONMember("customer", optionalText()), JSONMember("number", optionalText()),
        ])
        return [("kind", .string(kind)), ("schema", .number(String(CanonicalDocument.schemaVersion))), ("origin", origin), ("source", source()),
                ("number", .string(text())), ("title", optionalText()), ("description", optionalText()), ("status", optionalText())]
    }

    mutating func procore() -> JSONValue? {
        chance(50) ? nil : .object([JSONMember("project_id", .string(String(random.next() % 99999))), JSONMember("prime_contract_id", chance(50) ? .null : .string(String(random.next() % 99999))),
                                    JSONMember("change_order_id", chance(50) ? .null : .number(String(random.next() % 99999)))])
    }

    mutating func contract() -> JSONValue {
        var members = head("prime_contract")
        members += [
            ("customer", .object([JSONMember("code", .string(text())), JSONMember("name", optionalText())])),
            ("owner_name", optionalText()), ("price_method", optionalText()), ("currency", .string(pick(["USD", "CAD", "JPY"]))),
            ("original_amount", .string("1000")), ("retainage_percent", chance(40) ? .null : .string(pick(["10", "5.5", "0"]))),
            ("contract_date", date()), ("start_date", date()), ("estimated_completion_date", date()), ("completion_date", date()),
        ]
        let lines: [JSONValue] = (0..<Int(random.next() % 6)).map { _ in
            var line: [(String, JSONValue)] = [("code", .string(text())), ("description", optionalText()), ("additional_description", optionalText()),
                                               ("amount", .string("12")), ("cost_code", optionalText()), ("group", optionalText())]
            if chance(30) { line += [("unit_price", .string("3")), ("quantity", .string("4")), ("unit_of_measure", optionalText())] }
            if chance(50) { line.append(("source", source())) }
            return object(line)
        }
        members.append(("lines", .array(lines)))
        if let procore = procore() { members.append(("procore", procore)) }
        members.append(("diagnostics", diagnostics()))
        return object(members)
    }

    mutating func shares() -> JSONValue {
        .array((0..<Int(random.next() % 3)).map { _ in .object([JSONMember("name", .string(text())), JSONMember("amount", .string("1.25"))]) })
    }

    mutating func changeOrder() -> JSONValue {
        var members = head("change_order")
        members += [
            ("approved", .bool(chance(50))), ("date", date()), ("approved_date", date()), ("due_date", date()),
            ("schedule_impact_days", chance(50) ? .null : .number(String(random.next() % 60))), ("executed", chance(30) ? .null : .bool(chance(50))),
            ("contract", chance(30) ? .null : .object([JSONMember("company", .string(text())), JSONMember("job", .string(text())), JSONMember("customer", .string(text()))])),
            ("currency", .string("USD")),
        ]
        let lines: [JSONValue] = (0..<Int(random.next() % 5)).map { _ in
            var line: [(String, JSONValue)] = [("description", optionalText()), ("amount", amount()), ("quantity", optionalText()), ("unit_price", chance(50) ? .null : amount()),
                                               ("associated_line", optionalText()), ("associated_line_id", chance(50) ? .null : .number("77")), ("cost_code", optionalText()),
                                               ("cost_type", optionalText()), ("additional_description", optionalText()), ("group", optionalText())]
            if chance(40) { line.append(("procore_markup", shares())) }
            if chance(50) { line.append(("source", source())) }
            return object(line)
        }
        members.append(("lines", .array(lines)))
        let markups: [JSONValue] = (0..<Int(random.next() % 4)).map { index in
            let compound: JSONValue = pick([.null, .string("none"), .string("above"), .array([.string(text()), .string("Fee")])])
            return object([("name", .string(text())), ("set", .string(pick(["horizontal", "vertical"]))), ("percent", chance(30) ? .null : .string("2.5")),
                           ("amount", chance(60) ? .null : amount()), ("position", .number(String(index + 1))), ("compound", compound),
                           ("prime_line_item", optionalText()), ("calculation", optionalText())])
        }
        members.append(("markups", .array(markups)))
        if chance(60) {
            let computedLines: [JSONValue] = (0..<Int(random.next() % 3)).map { _ in
                .object([JSONMember("horizontal", shares()), JSONMember("extended_amount", amount()), JSONMember("vertical_shares", shares()), JSONMember("revenue", amount())])
            }
            members.append(("computed", .object([JSONMember("lines", .array(computedLines)), JSONMember("subtotal", amount()), JSONMember("vertical", shares()), JSONMember("grand_total", amount())])))
        }
        if let procore = procore() { members.append(("procore", procore)) }
        if chance(50) {
            members.append(("erp", .object([
                JSONMember("request_id", .string("5")), JSONMember("request_detail_id", chance(50) ? .null : .number("6")),
                JSONMember("line_ids", .array([.string("1"), .null, .number("3")])),
                JSONMember("markup_ids", .array([.object([JSONMember("name", .string(text())), JSONMember("id", .string("9"))])])),
            ])))
        }
        members.append(("diagnostics", diagnostics()))
        return object(members)
    }
}

@Suite struct ComparableTextTests {
    func expectSame(_ document: CanonicalDocument, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        let oracle = Array(ComparableOracle.comparable(document).text.utf8)
        let direct = ContentHash.comparableText(document)
        // Compared as bytes (String equality would forgive other normalizations), shown as text.
        let same = direct == oracle
        #expect(same, "\(String(decoding: direct, as: UTF8.self)) != \(String(decoding: oracle, as: UTF8.self))", sourceLocation: sourceLocation)
        #expect(ContentHash.of(document) == SHA256.hex(oracle), sourceLocation: sourceLocation)
        let tree = ContentHash.comparable(document) == ComparableOracle.comparable(document)
        #expect(tree, sourceLocation: sourceLocation)
    }

    @Test func matchesTheTreeOnTheFixtures() {
        let documents = [
            Fixtures.contract(job: "24-1017"), Fixtures.contract(job: "24/1017", project: "5001", amounts: ["0.01", "-3.00", "1000000.99"]),
            Fixtures.changeOrder(job: "24-1017"), Fixtures.changeOrder(job: "24-1017", primeContract: "31504417"),
            Fixtures.procoreChangeOrder(id: "1186921", job: "24-1017"),
        ]
        for document in documents { expectSame(document) }
    }

    /// The samples and fixture exports, read and marked up by the stages themselves (sov-parse,
    /// sov-markup), and the canonical fixtures.
    @Test func matchesTheTreeOnEverySampleAndFixtureExport() throws {
        let inputs = ["samples/spectrum/jobs.csv", "samples/spectrum/sov.csv", "samples/spectrum/change_orders.csv", "samples/spectrum/GetJobMain.xml",
                      "samples/spectrum/sov-2040.xml", "samples/procore/pcco-event.json", "samples/procore/pcco-package.json",
                      "Tests/Fixtures/spectrum/flat-contracts.xml", "Tests/Fixtures/procore/input/pcco-event.json",
                      "Tests/Fixtures/procore/input/pcco-package.json"].map(Checkout.path)
        let parsed = try ChildProcess.run(Checkout.executable("sov-parse"), inputs)
        let marked = try ChildProcess.run(Checkout.executable("sov-markup"), ["--markups", Checkout.path("samples/markups.toml")], stdin: parsed.stdout)
        var lines = marked.stdoutText.split(separator: "\n").map(String.init)
        lines += parsed.stdoutText.split(separator: "\n").map(String.init)
        for name in ["bound-for-procore.jsonl", "not-for-procore.jsonl"] {
            lines += try String(contentsOfFile: Checkout.path("Tests/Fixtures/procore/canonical/" + name), encoding: .utf8).split(separator: "\n").map(String.init)
        }
        var documents: [CanonicalDocument] = []
        for line in lines {
            if let document = try? CanonicalDocument(json: JSONParser.parse(line)) { documents.append(document) }
        }
        #expect(documents.count >= 25, "\(parsed.stderr)\(marked.stderr)")
        #expect(documents.contains { if case .changeOrder(let order) = $0 { order.computed != nil && order.erp != nil } else { false } })
        for document in documents { expectSame(document) }
    }

    @Test(arguments: [1, 2, 3, 4])
    func matchesTheTreeOnRandomDocuments(seed: UInt64) throws {
        var maker = RandomCanonical(random: SplitMix64(seed: seed))
        var made = 0
        for index in 0..<400 {
            let json = index % 2 == 0 ? maker.contract() : maker.changeOrder()
            guard let document = try? CanonicalDocument(json: json) else { continue }
            made += 1
            expectSame(document)
        }
        #expect(made > 300)
    }
}
