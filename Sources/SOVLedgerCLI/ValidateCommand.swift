import ArgumentParser
import SOVBatch
import SOVCLI
import SOVFrontEnd
import SOVCore
import SOVRules

public struct ValidateCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "sov-validate",
        abstract: "Check canonical documents against every rule of both systems; pass on the good ones.",
        discussion: discussion)

    @OptionGroup public var options: StageOptions

    @OptionGroup public var mapOption: ProjectMapOption

    /// Read only: prime contracts exported in earlier runs count for PC001 and CO004.
    @OptionGroup public var ledgerOption: LedgerOption

    var ledger: String? { ledgerOption.ledger }

    public init() {}

    public func run() throws {
        var history: ExportHistory?
        if let ledger {
            do {
                guard Ledger.exists(ledger) else {
                    StageDriver.printError("sov-validate: error: \(ledger): no such ledger")
                    try exit(with: .noInput)
                }
                history = try Ledger(path: ledger, readOnly: true).exportHistory()
            } catch let exit as ExitCode {
                throw exit
            } catch {
                StageDriver.printError("sov-validate: error: \(ledger): cannot read the ledger: \(error)")
                try exit(with: .ioError)
            }
        }
        var map: ProjectMap?
        if let projectMap = mapOption.projectMap {
            switch StageDriver.loadOptionalProjectMap(projectMap, stage: "sov-validate") {
            case .success(let loaded): map = loaded
            case .failure(let status): try exit(with: status)
            }
        }
        var validator = Validator(projectMap: map, knownContracts: history)
        // Held change orders wait on disk past a few MB, so an input of any size can hold them.
        let held = DocumentSpill()
        let status = StageDriver.runCanonical(
            stage: "sov-validate", options: options,
            process: { document in
                let verdict = validator.validate(document)
                if case .held = verdict { try held.append(document, place: held.count) }
                return verdict
            },
            finish: { report, output in
                try held.drain { _, document in
                    // Only this stage's warnings are said: the held document has the earlier ones.
                    let verdict = validator.judgeHeld(document)
                    try StageDriver.pass(verdict, earlierDiagnostics: document.diagnostics.count, report: report, output: output)
                }
            })
        try exit(with: status)
    }

    static let discussion: String = {
        // Listed as docs/FORMATS.md, "Rules and codes" lists them: contract rules, mapping, change orders, then formats.
        let groups = ["PC", "MAP", "CO", "FMT"]
        let codes = Validator.standardRules.map(\.code).sorted { lhs, rhs in
            let left = groups.firstIndex { lhs.rawValue.hasPrefix($0) } ?? groups.count
            let right = groups.firstIndex { rhs.rawValue.hasPrefix($0) } ?? groups.count
            return (left, lhs.rawValue) < (right, rhs.rawValue)
        }
        let listed = codes.map { code in
            let name = code.rawValue + String(repeating: " ", count: max(0, 8 - code.rawValue.count))
            let summary = code == .FMT009 ? "malformed canonical document, or a prime contract from Procore (they go to Procore only)" : code.summary
            return "  \(name)\(summary)"
        }.joined(separator: "\n")
        return """
            Reads canonical JSON Lines (from sov-parse) and checks each document for the system \
            it is bound for: Spectrum documents for Procore (PC*, MAP001, MAP002), Procore change \
            orders for Spectrum (MAP003, CO005 field limits); change orders both ways get CO001-CO004. \
            Every problem of a document is reported, not only the first.

            Accepted documents go to stdout: Spectrum documents gain "procore": {project_id, \
            prime_contract_id} from the project map; a Procore change order whose Spectrum \
            company/job/customer came from the map gains "contract" and a MAP004 warning saying so. \
            Nothing is repaired: no truncation, no default for a required value. \
            (Only sov-emit --to spectrum shortens text, a description longer than its Spectrum \
            field, with an FMT005 warning; spectrum.long_text = "reject" in its --config rejects \
            the change order instead.)

            Ordering: prime contracts are checked in input order (PC001: the first contract \
            mapped to a project wins; with --ledger, a contract exported for that project in an earlier \
            run wins over all). A change order is checked against its prime contract's \
            SOV when that contract is anywhere in the same input, or else in the ledger (CO004): one whose contract came \
            earlier passes at once; the others are held until the end of the input, then written \
            in input order.

            Rejected documents go once each to --rejects as {"document", "diagnostics"}; each \
            problem is also a line on stderr (file:line: error: [CODE] message), then a summary \
            by code.

            Codes:
            \(listed)

            Exit: 0 all accepted; 1 some rejected; 64 usage; 65 malformed input or project map; \
            66 input or project map missing; 73 rejects file cannot be created; 74 I/O error.
            """
    }()
}
