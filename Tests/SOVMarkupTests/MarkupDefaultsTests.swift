import Foundation
import SOVCore
import SOVMarkup
import SOVTestSupport
import Testing

let markupsFile = #"""
{
  "default": [
    {"name": "Contractor's Fee", "set": "vertical", "percent": "3"}
  ],
  "jobs": [
    {"job": "24-1017", "markups": [
      {"name": "Insurance", "set": "horizontal", "percent": 1},
      {"name": "Contractor's Fee", "set": "vertical", "percent": "3", "position": 1}
    ]},
    {"company": "1", "job": "24-1017", "markups": [
      {"name": "Company Fee", "set": "vertical", "percent": "4"}
    ]},
    {"job": "24-1017", "customer": "OWN200", "markups": [
      {"name": "Fee", "set": "vertical", "amount": "250.00"},
      {"name": "Bond", "set": "vertical", "percent": "1.5", "compound": "above", "calculation": "basic"}
    ]},
    {"job": "30-0001", "markups": []}
  ]
}
"""#

@Suite struct MarkupDefaultsFile {
    let folder = TemporaryFolder("sov-markup")

    func orderFor(company: String?, job: String?, customer: String?, contract: ContractKey? = nil) -> ChangeOrder {
        ChangeOrder(
            origin: Origin(system: .procore, company: company, job: job, customer: customer),
            source: SourceLocation(file: "pcco.json"), number: "7", approved: true, contract: contract,
            lines: [ChangeOrderLine(amount: money("1000.00")), ChangeOrderLine(amount: money("2500.00"))])
    }

    @Test func mostSpecificEntryWins() throws {
        let defaults = try MarkupDefaults.load(folder.write("markups.json", markupsFile))
        #expect(defaults.jobs.count == 4)
        #expect(defaults.markups(for: orderFor(company: "2", job: "24-1017", customer: "OWN100")).map(\.name) == ["Insurance", "Contractor's Fee"])
        #expect(defaults.markups(for: orderFor(company: "1", job: "24-1017", customer: "OWN100")).map(\.name) == ["Company Fee"])
        #expect(defaults.markups(for: orderFor(company: "1", job: "24-1017", customer: "OWN200")).map(\.name) == ["Fee", "Bond"])
        #expect(defaults.markups(for: orderFor(company: nil, job: "24-1017", customer: nil)).map(\.name) == ["Insurance", "Contractor's Fee"])
        #expect(defaults.markups(for: orderFor(company: "1", job: "99-9999", customer: "X")).map(\.name) == ["Contractor's Fee"])
        #expect(defaults.markups(for: orderFor(company: "1", job: "30-0001", customer: "X")).isEmpty)
        // The contract key, when the document has one, is what counts.
        let keyed = orderFor(company: nil, job: "99-9999", customer: nil, contract: ContractKey(company: "1", job: "24-1017", customer: "OWN200"))
        #expect(defaults.markups(for: keyed).map(\.name) == ["Fee", "Bond"])
    }

    @Test func valuesAreReadExactly() throws {
        let defaults = try MarkupDefaults.load(folder.write("markups.json", markupsFile))
        let own200 = defaults.markups(for: orderFor(company: "1", job: "24-1017", customer: "OWN200"))
        #expect(own200[0] == Markup(name: "Fee", set: .vertical, amount: money("250.00"), position: 1))
        #expect(own200[1] == Markup(name: "Bond", set: .vertical, percent: percent("1.5"), position: 2, compound: .above, calculation: "basic"))
        let job = defaults.markups(for: orderFor(company: nil, job: "24-1017", customer: nil))
        #expect(job[0].percent == percent("1"))
    }

    @Test func defaultsApplyOnlyWhenTheDocumentHasNone() throws {
        let stage = MarkupStage(defaults: try MarkupDefaults.load(folder.write("m.json", markupsFile)))
        let bare = orderFor(company: "2", job: "24-1017", customer: "OWN100")
        guard case .accepted(.changeOrder(let marked)) = stage.process(.changeOrder(bare)) else {
            Issue.record("not accepted")
            return
        }
        #expect(marked.markups.map(\.name) == ["Insurance", "Contractor's Fee"])
        #expect(marked.computed?.grandTotal == money("3641.05"))
        var own = bare
        own.markups = [vertical("Own", "10")]
        guard case .accepted(.changeOrder(let kept)) = stage.process(.changeOrder(own)) else {
            Issue.record("not accepted")
            return
        }
        #expect(kept.markups.map(\.name) == ["Own"])
        #expect(kept.computed?.grandTotal == money("3850.00"))
    }

    @Test func everyProblemInTheFileIsReported() throws {
        let bad = #"""
        {"default": [{"name": "Fee", "set": "vertical", "percent": "3", "amount": "1.00"}],
         "jobs": [
           {"job": "1", "markups": [{"name": "A", "set": "sideways", "percent": "x"}]},
           {"job": "2", "markups": [{"name": "Flat", "set": "horizontal", "amount": "5.00"},
                                    {"name": "M", "set": "vertical", "percent": "2", "calculation": "margin"}]},
           {"job": "2", "markups": []},
           {"markups": [], "extra": 1},
           {"job": "3", "markups": [{"name": "B", "set": "vertical", "percent": "1", "compund": "above"}]}
         ],
         "defaults": []}
        """#
        let path = folder.write("bad.json", bad)
        do {
            _ = try MarkupDefaults.load(path)
            Issue.record("a bad file was accepted")
        } catch {
            #expect(error.status == .dataError)
            let found = Set(error.diagnostics.map { "\($0.code) \($0.location.field ?? "")" })
            #expect(found == [
                "FMT010 default[0].amount",
                "FMT010 jobs[0].markups[0].set", "FMT002 jobs[0].markups[0].percent",
                "MKP002 jobs[1].markups[0].amount", "MKP002 jobs[1].markups[1].calculation",
                "FMT010 jobs[2]",
                "FMT010 jobs[3].extra", "FMT004 jobs[3].job",
                "FMT010 jobs[4].markups[0].compund",
                "FMT010 defaults",
            ])
            #expect(error.diagnostics.allSatisfy { $0.location.file == path })
        }
    }

    @Test func missingAndMalformedFiles() throws {
        do {
            _ = try MarkupDefaults.load("/nonexistent/markups.json")
            Issue.record("a missing file was accepted")
        } catch {
            #expect(error.status == .noInput)
            #expect(error.diagnostics.map(\.code) == [.IO001])
        }
        let broken = folder.write("broken.json", #"{"default": [}"#)
        let list = folder.write("list.json", #"[]"#)
        do {
            _ = try MarkupDefaults.load(broken)
            Issue.record("malformed JSON was accepted")
        } catch {
            #expect(error.status == .dataError)
            #expect(error.diagnostics.map(\.code) == [.FMT010])
        }
        do {
            _ = try MarkupDefaults.load(list)
            Issue.record("a list was accepted")
        } catch {
            #expect(error.diagnostics.map(\.code) == [.FMT010])
        }
    }

    @Test func emptyObjectMeansNoDefaults() throws {
        let defaults = try MarkupDefaults.load(folder.write("empty.json", "{}"))
        #expect(defaults.markups(for: orderFor(company: "1", job: "2", customer: "3")).isEmpty)
    }
}

@Suite struct MarkupStageDocuments {
    @Test func primeContractsPassUnchanged() {
        let contract = PrimeContract(
            origin: Origin(system: .spectrum, company: "1", job: "24-1017", customer: "OWN100"),
            source: SourceLocation(file: "jobs.csv", line: 2), number: "C-1", customer: Party(code: "OWN100"),
            originalAmount: money("100.00"), lines: [SOVLine(code: "100", amount: money("100.00"))])
        #expect(MarkupStage().process(.primeContract(contract)) == .accepted(.primeContract(contract)))
    }

    @Test func rejectedDocumentsComeBackAsTheyCame() {
        let document = CanonicalDocument.changeOrder(order(["1.00"], markups: [vertical("M", "5", calculation: "margin")]))
        guard case .rejected(let reject) = MarkupStage().process(document) else {
            Issue.record("margin accepted")
            return
        }
        #expect(reject.document == document.json)
        #expect(reject.diagnostics.map(\.code) == [.MKP002])
    }

    @Test func warningsTravelWithTheDocument() {
        let markups = [horizontal("Insurance", "1"), vertical("Fee", "3")]
        let procore = [
            [MarkupAmount(name: "Insurance", amount: money("10.00")), MarkupAmount(name: "Fee", amount: money("30.31"))],
            [MarkupAmount(name: "Insurance", amount: money("25.00")), MarkupAmount(name: "Fee", amount: money("75.74"))],
        ]
        guard case .accepted(.changeOrder(let marked)) = MarkupStage().process(.changeOrder(order(["1000.00", "2500.00"], markups: markups, procore: procore))) else {
            Issue.record("not accepted")
            return
        }
        #expect(marked.diagnostics.map(\.code) == [.MKP001])
        #expect(marked.diagnostics.first?.severity == .warning)
    }

    @Test func computedSurvivesTheCanonicalRoundTrip() throws {
        guard case .accepted(let document) = MarkupStage().process(.changeOrder(order(["1000.00", "-2500.00"], markups: [horizontal("Insurance", "1"), lumpSum("Fee", "-7.01")]))) else {
            Issue.record("not accepted")
            return
        }
        let reread = try CanonicalDocument(json: try JSONParser.parse(document.jsonLine))
        #expect(reread == document)
        // Running the stage again gives the same figures.
        #expect(MarkupStage().process(reread) == .accepted(document))
    }
}
