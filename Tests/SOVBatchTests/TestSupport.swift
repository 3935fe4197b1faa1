import Foundation
@testable import SOVBatch
import SOVCore
import SOVFrontEnd
import SOVTestSupport

/// The pipeline the batch tests plug into the seam, made of real SOVCore pieces: canonical JSON
/// Lines read with CanonicalReader, a few real rules over the batch and the export history, no
/// markup (fixtures carry their `computed` block), and the canonical JSON line as the export.
enum TestPipeline {
    static func make(checksHistory: Bool = true, exportDelay: Double = 0) -> BatchPipeline {
        BatchPipeline(
            parse: parse,
            validate: { documents, history in validate(documents, history, checksHistory: checksHistory) },
            markup: { .accepted($0) },
            export: { request in
                if exportDelay > 0 { Thread.sleep(forTimeInterval: exportDelay) }
                return .exported(ExportedDocument(
                    fileName: request.target.fileName(for: request.document), bytes: Array((request.document.jsonLine + "\n").utf8)))
            })
    }

    /// Canonical JSON Lines per file; a file none of whose lines is JSON is unusable as a whole.
    static func parse(_ paths: [String]) -> ParseOutput {
        var output = ParseOutput()
        for path in paths {
            do {
                var reader = CanonicalReader(try InputFile(path: path))
                var items: [Verdict] = []
                var anyJSON = false
                while let item = try reader.next() {
                    switch item {
                    case .document(let document):
                        anyJSON = true
                        items.append(.accepted(document))
                    case .malformed(let raw, let diagnostic):
                        if case .string = raw {} else { anyJSON = true }
                        items.append(.rejected(Reject(record: raw, diagnostics: [diagnostic])))
                    }
                }
                if !anyJSON && !items.isEmpty {
                    output.failures.append(InputFailure(path: path, status: .dataError, message: "not canonical JSON Lines: no line is JSON"))
                } else {
                    output.items += items
                }
            } catch {
                output.failures.append(InputFailure(error))
            }
        }
        return output
    }

    /// PC001 (in the batch and against earlier runs), PC003 and CO004 (against the batch and
    /// earlier runs), as the real validator will do them, to exercise the history seam.
    static func validate(_ documents: [CanonicalDocument], _ history: ExportHistory, checksHistory: Bool) -> [Verdict] {
        var projects: [String: String] = [:]
        var items: [ContractKey: Set<String>] = [:]
        for document in documents {
            if case .primeContract(let contract) = document, let key = contract.origin.contractKey {
                items[key] = Set(contract.lines.map(\.code))
            }
        }
        return documents.map { document in
            var problems: [Diagnostic] = []
            switch document {
            case .primeContract(let contract):
                let sum = contract.lines.reduce(Money.zero(contract.currency)) { $0 + $1.amount }
                if sum != contract.originalAmount {
                    problems.append(.error(.PC003, "SOV lines add up to \(sum), not \(contract.originalAmount)", at: contract.source.with(field: "lines")))
                }
                if let project = contract.procore?.projectId {
                    if let other = projects[project], other != document.originId {
                        problems.append(.error(.PC001, "project \(project) already has \(other) in this batch", at: contract.source))
                    } else if checksHistory, let other = history.exportedContract(forProject: project), other != document.originId {
                        problems.append(.error(.PC001, "project \(project) already has \(other) from an earlier run", at: contract.source))
                    }
                    projects[project] = document.originId
                }
            case .changeOrder(let order):
                if let key = order.contract, let known = items[key] ?? (checksHistory ? history.billingItems(of: key) : nil) {
                    for (index, line) in order.lines.enumerated() where !known.contains(line.associatedLine ?? "") {
                        problems.append(.error(.CO004, "line \(index + 1): billing item '\(line.associatedLine ?? "")' is not on the prime contract", at: order.source.with(field: "lines[\(index)].associated_line"), value: line.associatedLine))
                    }
                }
            }
            return problems.isEmpty ? .accepted(document) : .rejected(document, problems)
        }
    }
}

enum Fixtures {
    static func money(_ text: String) -> Money { try! Money.parse(text) }

    static func contract(job: String, customer: String = "OWN100", project: String? = nil, amounts: [String] = ["1000.00", "2500.00"], total: String? = nil, title: String = "Main contract", file: String = "input.jsonl", line: Int = 1) -> CanonicalDocument {
        let lines = amounts.enumerated().map { index, amount in
            SOVLine(code: String(format: "%04d", (index + 1) * 100), description: "Item \(index + 1)", amount: money(amount))
        }
        let sum = lines.reduce(Money.zero()) { $0 + $1.amount }
        return .primeContract(PrimeContract(
            origin: Origin(system: .spectrum, company: "1", job: job, customer: customer, number: "C-\(job)"),
            source: SourceLocation(file: file, line: line), number: "C-\(job)", title: title, status: "A",
            customer: Party(code: customer, name: "Owner of \(job)"), priceMethod: "F",
            originalAmount: total.map(money) ?? sum, lines: lines,
            procore: project.map { ProcoreLink(projectId: $0) }))
    }

    /// A Spectrum change order with its markup already computed (as sov-markup leaves it):
    /// lines 1000.00 and 2500.00, Insurance 1% horizontal, Fee 3% vertical (the example in docs/FORMATS.md, "Markup").
    /// `primeContract`: the Procore prime contract id the project map gave it (otherwise the
    /// change order follows a contract SOVBridge exports, and waits for it).
    static func changeOrder(job: String, number: String = "003", customer: String = "OWN100", associated: [String] = ["0100", "0200"], file: String = "input.jsonl", line: Int = 1, primeContract: String? = nil) -> CanonicalDocument {
        let key = ContractKey(company: "1", job: job, customer: customer)
        let amounts = ["1000.00", "2500.00"]
        let lines = zip(amounts, associated).map { amount, item in
            ChangeOrderLine(description: "Extra work on \(item)", amount: money(amount), associatedLine: item)
        }
        let computed = ComputedMarkup(
            lines: [
                ComputedLine(horizontal: [MarkupAmount(name: "Insurance", amount: money("10.00"))], extendedAmount: money("1010.00"), verticalShares: [MarkupAmount(name: "Fee", amount: money("30.30"))], revenue: money("1040.30")),
                ComputedLine(horizontal: [MarkupAmount(name: "Insurance", amount: money("25.00"))], extendedAmount: money("2525.00"), verticalShares: [MarkupAmount(name: "Fee", amount: money("75.75"))], revenue: money("2600.75")),
            ],
            subtotal: money("3535.00"), vertical: [MarkupAmount(name: "Fee", amount: money("106.05"))], grandTotal: money("3641.05"))
        return .changeOrder(ChangeOrder(
            origin: Origin(system: .spectrum, company: "1", job: job, customer: customer, number: number),
            source: SourceLocation(file: file, line: line), number: number, title: "Change order \(number)", status: "A", approved: true,
            date: CalendarDate(year: 2025, month: 3, day: 14), contract: key, lines: lines,
            markups: [
                Markup(name: "Insurance", set: .horizontal, percent: try! Percent.parse("1"), position: 1),
                Markup(name: "Fee", set: .vertical, percent: try! Percent.parse("3"), position: 2),
            ],
            computed: computed, procore: primeContract.map { ProcoreLink(projectId: "5001", primeContractId: $0) }))
    }

    /// A Procore change order bound for Spectrum.
    static func procoreChangeOrder(id: String, job: String, customer: String = "OWN100", amount: String = "750.00") -> CanonicalDocument {
        .changeOrder(ChangeOrder(
            origin: Origin(system: .procore, number: "PCCO-\(id)"), source: SourceLocation(file: "procore.json", line: 1),
            number: "P\(id)", title: "Procore change \(id)", status: "approved", approved: true,
            date: CalendarDate(year: 2025, month: 4, day: 2), contract: ContractKey(company: "1", job: job, customer: customer),
            lines: [ChangeOrderLine(description: "Owner request", amount: money(amount), associatedLine: "0100")],
            procore: ProcoreLink(projectId: "5001", changeOrderId: id)))
    }

    static func jsonl(_ documents: [CanonicalDocument]) -> String {
        documents.map { $0.jsonLine + "\n" }.joined()
    }
}

/// An OutputSink whose bytes can be read back (a temporary file the sink owns, so a runner that
/// outlives this object still writes to its own file and never to a reused descriptor number).
final class CapturedOutput {
    private let folder = TemporaryFolder("sovbatch-out")
    let path: String
    let sink: OutputSink

    init() {
        path = folder.file("captured")
        sink = try! OutputSink(creating: path)
    }

    var text: String {
        try? sink.flush()
        return (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }
}

extension BatchOptions {
    static func test(_ folder: TemporaryFolder, inputs: [String], out: String? = "out", rejects: String? = "rejects.jsonl", report: String? = nil, dryRun: Bool = false) -> BatchOptions {
        var options = BatchOptions()
        options.inputs = inputs
        options.ledger = folder.file("ledger.sqlite")
        options.out = out.map(folder.file)
        options.rejects = rejects.map(folder.file)
        options.report = report.map(folder.file)
        options.dryRun = dryRun
        return options
    }
}

/// Runs a batch with the test pipeline, capturing stdout and stderr.
func runBatch(_ options: BatchOptions, pipeline: BatchPipeline = TestPipeline.make(), listsEveryOutcome: Bool = true) throws -> (result: RunResult, stdout: String, stderr: String) {
    let out = CapturedOutput()
    let err = CapturedOutput()
    let runner = BatchRunner(pipeline: pipeline, options: options, human: err.sink, standardOutput: out.sink, showProgress: false)
    runner.listsEveryOutcome = listsEveryOutcome
    // Units reach the staging folder as late as any schedule could: a look there too early fails every time.
    runner.stagingWritesOnlyWhenAsked = true
    let result = try runner.run()
    return (result, out.text, err.text)
}

/// The files of a folder with their size, modification time (to the nanosecond) and bytes: two
/// equal snapshots mean that nothing in the folder was created, removed or written between them.
struct FolderSnapshot: Equatable, CustomStringConvertible {
    struct Entry: Equatable {
        var name: String
        var size: Int
        var modifiedSeconds: Int
        var modifiedNanoseconds: Int
        var bytes: Data
    }

    var entries: [Entry]

    init(_ folder: String) throws {
        entries = try FileManager.default.contentsOfDirectory(atPath: folder).sorted().map { name in
            let path = folder + "/" + name
            var status = stat()
            guard stat(path, &status) == 0 else { throw CocoaError(.fileReadNoSuchFile) }
            return Entry(
                name: name, size: Int(status.st_size), modifiedSeconds: Int(status.st_mtim.tv_sec),
                modifiedNanoseconds: Int(status.st_mtim.tv_nsec), bytes: try Data(contentsOf: URL(fileURLWithPath: path)))
        }
    }

    var names: [String] { entries.map(\.name) }

    var description: String {
        entries.map { "\($0.name) (\($0.size) bytes, modified \($0.modifiedSeconds).\($0.modifiedNanoseconds))" }.joined(separator: ", ")
    }
}
