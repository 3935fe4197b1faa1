import ArgumentParser
import SOVBatch
import SOVCLI
import SOVCore
import SOVFrontEnd
import SOVPush

public struct WatchCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "sov-watch",
        abstract: "Process a drop folder: DIR/inbox -> DIR/outbox, DIR/rejected, DIR/archive (DIR/failed for unusable files).",
        discussion: """
            Entries are claimed from DIR/inbox by an atomic rename into DIR/work once settled: their \
            size and modification time the same at two scans --settle seconds apart (default 5; with \
            --once it scans, waits, and scans again), or, with --ready-suffix .done, once x.csv.done \
            exists. Names starting with '.' or ending in .tmp or .part are left alone; links, FIFOs and \
            devices are never opened. Exports are outbox units in DIR/outbox (00000042-<slug>-<hash>.json \
            or .xml, in the order to apply them), staged and recorded in the ledger before they appear \
            there, so each appears exactly once whatever a consumer takes meanwhile; a change to a unit \
            still in DIR/outbox replaces it (the old one to DIR/outbox/superseded/). Rejects go to \
            DIR/rejected/NAME.rejects.jsonl and the input to DIR/archive once its outputs are durable \
            (DIR/failed with NAME.error.txt when unusable as a whole); no file there is ever replaced \
            (b.2.json when b.json is taken). After a crash, what is in DIR/work is processed again and \
            the ledger keeps anything from being exported twice. A folder dropped into DIR/inbox is one \
            batch (its files, subfolders included, are read together, so a job header export and its \
            SOV export are joined) and is archived whole. One watcher per folder (exit 75 if another \
            holds it). SIGTERM, SIGINT or SIGHUP: finish the current file, then exit 0. With --push, \
            the outbox is delivered after each pass (what sov-push does) and delivered units move to \
            DIR/outbox/delivered/.

            --config FILE may be the file sov-run uses: sov-watch takes its encoding, profile, \
            project_map, markups, ledger, report, quiet, interval, [spectrum] and [procore] tables, and \
            ignores inputs, out, rejects and dry_run (saying so once on stderr, unless --quiet): \
            the drop folder decides those. Any other key is an error (exit 64).

            Exit codes: 0 all good (and on SIGTERM/SIGINT/SIGHUP); with --once, 1 if some documents \
            were rejected (or, with --push, refused) and 65 if some file was unusable; 64 usage; 69 \
            (--push, --once) a target unreachable; 70 internal error; 73 an output cannot be created; \
            74 I/O error (the file stays in DIR/work); 75 folder locked; 77 (--push) a target refused \
            our credentials.
            """)

    @Argument(help: "The drop folder; its subfolders are created when missing.")
    public var folder: String

    @Flag(name: .long, help: "Process what is there, then exit.")
    public var once = false

    @Option(name: .long, help: ArgumentHelp("Seconds between scans of the inbox (default 5).", valueName: "seconds"))
    public var interval: Int?

    @Option(name: .long, help: ArgumentHelp("Take an inbox entry only once its size and modification time were the same at two scans this many seconds apart (default 5; 0 takes what is there at once).", valueName: "seconds"))
    public var settle: Int?

    @Option(name: .long, help: ArgumentHelp("Take x.csv only once x.csv<suffix> exists (e.g. .done), without settling; the marker is removed when its file is claimed.", valueName: "suffix"))
    public var readySuffix: String?

    @OptionGroup public var batch: BatchFlags

    @Flag(name: .long, help: "After each pass, deliver the outbox (what sov-push does); delivered units move to DIR/outbox/delivered/.")
    public var push = false

    @OptionGroup(title: "Delivery (with --push)") public var delivery: DeliveryOptionGroup

    public init() {}

    public func validate() throws {
        if let interval, interval < 1 { throw ValidationError("--interval must be at least 1 second") }
        if let settle, settle < 0 { throw ValidationError("--settle must be 0 or more seconds") }
        if let readySuffix, readySuffix.isEmpty || readySuffix.contains("/") { throw ValidationError("--ready-suffix must be a file name ending such as .done") }
    }

    public func run() throws {
        StageDriver.prepareProcess()
        let dropFolder = DropFolder(folder)
        var options: WatchOptions
        do throws(OptionsError) {
            var settings = try batch.settings()
            if settings.text(.ledger) == nil { settings[.ledger] = .text(dropFolder.defaultLedger) }
            // Only the configuration can hold these (sov-watch has no such flags): a file shared
            // with sov-run is fine, but what it says there is not done here, and that is said.
            let ignored = settings.runOnlyKeysGiven
            if !ignored.isEmpty, let config = batch.config, settings.flag(.quiet) != true {
                StageDriver.printError("sov-watch: \(config): ignoring \(ignored.joined(separator: ", ")) (for sov-run): the drop folder decides what is read and where exports and rejects go, and sov-watch always moves files")
            }
            settings = settings.withoutRunOnlyKeys
            var batchOptions = try settings.options(environmentAuthorizationId: SpectrumEmit.environmentAuthorizationId())
            batchOptions.companyId = delivery.firm(settings)
            options = WatchOptions(folder: dropFolder, batch: batchOptions)
            options.interval = interval ?? settings.number(.interval) ?? options.interval
        } catch {
            StageDriver.printError("sov-watch: error: \(error.message)")
            try exit(with: error.status)
        }
        options.once = once
        if let settle { options.settleSeconds = settle }
        options.readySuffix = readySuffix
        let pipeline: BatchPipeline
        do {
            pipeline = try BatchPipeline.standard(options.batch)
        } catch {
            for diagnostic in error.diagnostics { StageDriver.printError("sov-watch: \(diagnostic.humanLine)") }
            StageDriver.printError("sov-watch: error: \(error.message)")
            try exit(with: error.status)
        }
        let watcher = Watcher(pipeline: pipeline, options: options)
        if push {
            do {
                var pushOptions = try delivery.options(ledger: options.batch.ledger, settings: try batch.settings())
                pushOptions.quiet = options.batch.quiet
                watcher.afterPass = { ledger in
                    let runner = PushRunner(options: pushOptions, ledger: ledger)
                    runner.commandName = "sov-watch"
                    return runner.run().status
                }
            } catch {
                StageDriver.printError("sov-watch: error: \(error.message)")
                try exit(with: error.status)
            }
        }
        Watcher.installSignalHandlers()
        try exit(with: watcher.run())
    }
}
