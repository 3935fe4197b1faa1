import Foundation
import SOVTestSupport
import Testing

/// Every command's `--help`, checked whole against a committed snapshot (as swift-argument-parser's
/// own tests check their help texts): Tests/Fixtures/help/NAME.txt, NAME the command and its
/// subcommand joined by '-' ("sov-push-deliver"). The terminal width is pinned (COLUMNS=80) so the
/// wrapping does not depend on where the tests run. On a mismatch the failure shows a unified diff
/// (snapshot -> now).
///
/// After changing an option on purpose, rewrite the snapshots from the current build and review
/// the diff before committing it:
///
///     SOV_UPDATE_SNAPSHOTS=1 swift test --filter HelpSnapshotTests
@Suite struct HelpSnapshotTests {
    static let commands: [[String]] = [
        ["sov-parse"], ["sov-validate"], ["sov-markup"], ["sov-emit"], ["sov-run"], ["sov-watch"],
        ["sov-push"], ["sov-push", "deliver"], ["sov-push", "fetch-erp-request"],
        ["sov-ledger"], ["sov-ledger", "list"], ["sov-ledger", "show"], ["sov-ledger", "forget"], ["sov-ledger", "retry"],
    ]

    static let folder = "Tests/Fixtures/help"
    static let updating = ProcessInfo.processInfo.environment["SOV_UPDATE_SNAPSHOTS"] == "1"

    static func snapshotPath(_ command: [String]) -> String { Checkout.path("\(folder)/\(command.joined(separator: "-")).txt") }

    @Test("--help matches its snapshot", arguments: commands)
    func helpMatchesSnapshot(_ command: [String]) throws {
        let outcome = try Tool.run(command[0], Array(command.dropFirst()) + ["--help"], environment: ["COLUMNS": "80"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stderr.isEmpty)
        let help = outcome.stdoutText
        let path = Self.snapshotPath(command)
        if Self.updating {
            try FileManager.default.createDirectory(atPath: Checkout.path(Self.folder), withIntermediateDirectories: true)
            try Data(help.utf8).write(to: URL(fileURLWithPath: path))
            return
        }
        guard let snapshot = FileManager.default.contents(atPath: path).map({ String(decoding: $0, as: UTF8.self) }) else {
            Issue.record("no snapshot \(path): run with SOV_UPDATE_SNAPSHOTS=1 to write it")
            return
        }
        if help != snapshot {
            Issue.record("`\(command.joined(separator: " ")) --help` differs from \(Self.folder)/\(command.joined(separator: "-")).txt (SOV_UPDATE_SNAPSHOTS=1 rewrites it):\n\(try Self.unifiedDiff(snapshot, help))")
        }
    }

    /// A subcommand added, or a snapshot whose command went away, is noticed: the snapshots are
    /// exactly the commands above, and those are every subcommand the parents list.
    @Test func theSnapshotsAreEveryCommandAndSubcommand() throws {
        if !Self.updating {  // (while updating, the files are being written meanwhile)
            let files = ((try? FileManager.default.contentsOfDirectory(atPath: Checkout.path(Self.folder))) ?? []).sorted()
            #expect(files == Self.commands.map { $0.joined(separator: "-") + ".txt" }.sorted())
        }
        for parent in ["sov-push", "sov-ledger"] {
            let help = try Tool.run(parent, ["--help"], environment: ["COLUMNS": "80"]).stdoutText
            let listed = help.components(separatedBy: "SUBCOMMANDS:").dropFirst().first?
                .split(separator: "\n").filter { $0.hasPrefix("  ") && !$0.hasPrefix("   ") && !$0.contains("See '") }
                .compactMap { $0.split(separator: " ").first.map(String.init) } ?? []
            #expect(!listed.isEmpty, "\(parent) lists its subcommands")
            #expect(Set(listed) == Set(Self.commands.filter { $0.count == 2 && $0[0] == parent }.map { $0[1] }), "\(parent)")
        }
    }

    /// `diff -u` of two texts, labelled snapshot and now.
    static func unifiedDiff(_ old: String, _ new: String) throws -> String {
        let scratch = TemporaryFolder("sov-help-diff")
        let outcome = try ChildProcess.run(
            "/usr/bin/diff", ["-u", "--label", "snapshot", "--label", "now", scratch.write("snapshot", old), scratch.write("now", new)], timeout: 30)
        return outcome.stdoutText
    }
}
