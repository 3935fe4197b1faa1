import ArgumentParser
import SOVCore
import SOVMarkup

public struct MarkupCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "sov-markup",
        abstract: "Compute Procore's horizontal and vertical financial markup on change orders, exact to the cent.",
        discussion: """
            Reads canonical JSON Lines (from sov-parse or sov-validate) and writes them to stdout. \
            Prime contracts pass through unchanged. Each change order gains a "computed" block: per \
            line its horizontal markup amounts, extended amount, share of each vertical markup and \
            revenue; the subtotal; each vertical markup's amount; the grand total.

            Horizontal markup applies to each line, vertical markup to the subtotal of all lines \
            (horizontal markup included), each set in position order; "compound": "above" adds the \
            markups above in the same set to the base, a list of names only those. Each amount is \
            rounded once, half away from zero, to the cent; totals are sums of rounded amounts. A \
            vertical markup is shared among the lines in proportion to their extended amounts \
            (largest remainders, earlier line first on ties), or goes wholly to the line of the \
            prime contract line item it names.

            A change order without markups of its own takes them from --markups FILE (JSON, or TOML \
            for any name not ending in .json): {"default": [markup...], "jobs": [{"job", \
            "company"?, "customer"?, "markups": [markup...]}]}, the most specific job entry first, \
            then "default". A markup is {"name", "set": "horizontal"|"vertical", "percent" or \
            "amount" (vertical lump sum), "position"?, "compound"?, "prime_line_item"?, \
            "calculation"?}.

            Rejected (to --rejects, exit 1): MKP001 when Procore's own markup amounts on the lines \
            total differently from the computed ones (if only the split across lines differs, \
            Procore's split is kept with a warning); MKP002 for Procore's margin calculation or any \
            unknown calculation type, lump sums on horizontal markups, compounding of markups that \
            are not above, duplicate names; FMT codes for malformed definitions.

            Exit: 0 all marked up; 1 some rejected; 64 usage; 65 malformed markups file; 66 input or \
            markups file missing; 70 internal error; 73 rejects file cannot be created; 74 I/O error.
            """)

    @OptionGroup public var markupsOption: MarkupsOption

    @OptionGroup public var options: StageOptions

    public init() {}

    public func run() throws {
        var defaults: MarkupDefaults?
        if let path = markupsOption.markups {
            do {
                defaults = try MarkupDefaults.load(path)
            } catch {
                // A settings file that cannot be used stops the stage before any output: even with
                // --quiet the reason is said, since no document carries it.
                for diagnostic in error.diagnostics { StageDriver.printError(diagnostic.humanLine) }
                StageDriver.printError("sov-markup: error: cannot use the markups file \(path)")
                try exit(with: error.status)
            }
        }
        let stage = MarkupStage(defaults: defaults)
        let status = StageDriver.runCanonical(stage: "sov-markup", options: options) { document in
            stage.process(document)
        }
        try exit(with: status)
    }
}
