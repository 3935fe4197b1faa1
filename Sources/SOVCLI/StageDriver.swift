import ArgumentParser
import SOVCore
import SOVRules

#if canImport(Glibc)
import Glibc
#endif

/// Options every stage shares (one configuration type for every command: docs/ARCHITECTURE.md, "Conventions").
public struct StageOptions: ParsableArguments {
    @Argument(help: "Input files; standard input when none or '-'.")
    public var inputs: [String] = []

    @OptionGroup public var rejectsOption: RejectsOption

    public var rejects: String? { rejectsOption.rejects }

    @OptionGroup public var quietFlag: QuietFlag

    public var quiet: Bool { quietFlag.quiet }

    public init() {}

    /// The inputs to read, standard input standing for none.
    public var inputPaths: [String] { inputs.isEmpty ? ["-"] : inputs }
}

/// Runs a stage over canonical JSON Lines: each input in turn, each document through `process`,
/// accepted ones to stdout, rejected ones to the rejects stream; returns the exit status.
/// A closed stdout (`| head`) ends the stage at once with status 0: the reader has what it wanted.
public enum StageDriver {
    /// Standard setup for every executable: a closed pipe becomes an EPIPE error we handle,
    /// instead of a SIGPIPE death (exit 141) in the middle of a write.
    public static func prepareProcess() {
        signal(SIGPIPE, SIG_IGN)
    }

    public static func openRejects(_ path: String?) throws -> OutputSink? {
        guard let path else { return nil }
        return try OutputSink(creating: path, what: "the rejects file")
    }

    /// The report every stage speaks through, with its rejects file; nil (said on stderr, with
    /// the status to exit with) when the rejects file cannot be created.
    public static func makeReport(stage: String, options: StageOptions) -> Result<StageReport, ExitStatus> {
        do {
            return .success(StageReport(stage: stage, rejects: try openRejects(options.rejects), quiet: options.quiet))
        } catch let failure as IOFailure {
            printError("\(stage): error: \(failure.description)")
            return .failure(failure.status)
        } catch {
            printError("\(stage): error: \(error)")
            return .failure(.cannotCreate)
        }
    }

    public static func runCanonical(
        stage: String, options: StageOptions,
        passesAccepted: Bool = true,
        process: (CanonicalDocument) throws -> Verdict,
        finish: ((StageReport, OutputSink) throws -> Void)? = nil
    ) -> ExitStatus {
        prepareProcess()
        let report: StageReport
        switch makeReport(stage: stage, options: options) {
        case .success(let made): report = made
        case .failure(let status): return status
        }
        let output = OutputSink()
        return report.runCanonical(
            inputPaths: options.inputPaths, output: output,
            body: { document in
                let verdict = try process(document)
                // A writer stage (sov-emit) has written what it accepted in its own format.
                if case .accepted = verdict, !passesAccepted { return }
                try pass(verdict, earlierDiagnostics: document.diagnostics.count, report: report, output: output)
            },
            finish: { try finish?(report, output) })
    }

    /// An accepted document to `output` with only this stage's warnings (earlier stages said
    /// theirs), a rejected one to the rejects stream; a held one waits for the stage's `finish`.
    public static func pass(_ verdict: Verdict, earlierDiagnostics: Int, report: StageReport, output: OutputSink) throws {
        switch verdict {
        case .accepted(let document):
            for warning in document.diagnostics.dropFirst(earlierDiagnostics) { report.warn(warning) }
            report.countOut()
            try output.writeLine(document)
        case .rejected(let reject):
            try report.reject(reject)
        case .held:
            break
        }
    }

    /// Loads `path` when given, or says why not on stderr and returns the exit status.
    public static func loadOptionalProjectMap(_ path: String?, stage: String) -> Result<ProjectMap?, ExitStatus> {
        guard let path else { return .success(nil) }
        switch ProjectMapCheck.load(path) {
        case .success(let map): return .success(map)
        case .failure(let failure):
            for diagnostic in failure.diagnostics { printError("\(stage): \(diagnostic.humanLine)") }
            return .failure(failure.status)
        }
    }

    public static func printError(_ line: String) {
        let sink = OutputSink.standardError()
        try? sink.write(line + "\n")
        try? sink.flush()
    }
}

extension ParsableCommand {
    /// Ends the command with one of the exit codes (docs/FORMATS.md, "Exit codes").
    public func exit(with status: ExitStatus) throws -> Never {
        throw ExitCode(status.rawValue)
    }

    /// `main()`, ending at an `ExitCode` (how every run ends, `exit(with:)`) as `main()` does,
    /// by `exit` with its code and nothing printed, but without first rendering the usage text
    /// `exit(withError:)` makes for any error and prints for none of these: 5 M instructions.
    /// Every other error goes to `exit(withError:)` as before.
    public static func mainExitingWithItsCode() -> Never {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let code as ExitCode {
            Glibc.exit(code.rawValue)
        } catch {
            exit(withError: error)
        }
        exit(withError: nil)
    }
}
