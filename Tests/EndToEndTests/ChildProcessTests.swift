import Foundation
import SOVTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The runner every test uses for a child process (SOVTestSupport's `ChildProcess`): it must not
/// hang on a child that fills one pipe while the test waits on the other, and a child that does
/// not end must fail the test, not hang it.
@Suite struct ChildProcessTests {
    static let megabyte = 1 << 20

    /// A megabyte is sixteen times what a Linux pipe holds: a runner that read one pipe to its
    /// end before the other would wait for ever on the first (the timeout turns that into a
    /// failure).
    @Test("a child writing 1 MB to stderr, then 1 MB to stdout, then 1 MB to stderr again, is read whole", arguments: [
        "head -c $1 /dev/zero | tr '\\0' e >&2; head -c $1 /dev/zero | tr '\\0' o; head -c $1 /dev/zero | tr '\\0' E >&2",
        "head -c $1 /dev/zero | tr '\\0' o; head -c $1 /dev/zero | tr '\\0' e >&2; head -c $1 /dev/zero | tr '\\0' E >&2",
    ])
    func bothPipesFull(script: String) throws {
        let outcome = try ChildProcess.run("/bin/sh", ["-c", script, "sh", String(Self.megabyte)], timeout: 120)
        #expect(outcome.status == 0, "\(outcome.stderr.suffix(200))")
        #expect(!outcome.killedBySignal)
        #expect(outcome.stdout.count == Self.megabyte)
        #expect(outcome.stdout.allSatisfy { $0 == UInt8(ascii: "o") })
        let errors = Array(outcome.stderr.utf8)
        #expect(errors.count == 2 * Self.megabyte)
        #expect(errors.prefix(Self.megabyte).allSatisfy { $0 == UInt8(ascii: "e") })
        #expect(errors.suffix(Self.megabyte).allSatisfy { $0 == UInt8(ascii: "E") })
    }

    @Test("1 MB on stdin comes back whole while the child writes 1 MB to stderr first")
    func stdinWhileStderrIsFull() throws {
        let input = Data((0..<Self.megabyte).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        let outcome = try ChildProcess.run(
            "/bin/sh", ["-c", "head -c $1 /dev/zero | tr '\\0' e >&2; cat", "sh", String(Self.megabyte)], stdin: input, timeout: 120)
        #expect(outcome.status == 0)
        #expect(outcome.stdout == input)
        #expect(outcome.stderr.utf8.count == Self.megabyte)
    }

    @Test("environment additions, names taken out and the working directory reach the child")
    func environmentAndDirectory() throws {
        let folder = TemporaryFolder()
        // A variable the test has and the shell does not manage itself, to take out.
        let shellOwn: Set = ["PATH", "PWD", "OLDPWD", "IFS", "PS1", "PS2", "PS4", "OPTIND", "PPID", "SHLVL", "_"]
        let inherited = try #require(ProcessInfo.processInfo.environment.keys.sorted().first {
            !shellOwn.contains($0) && $0.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
        })
        let outcome = try ChildProcess.run(
            "/bin/sh", ["-c", "printf '%s|%s|' \"$SOV_CHILD_PROCESS_TEST\" \"$(env | grep -c \"^$1=\")\"; pwd -P; exit 3", "sh", inherited],
            environment: ["SOV_CHILD_PROCESS_TEST": "added"], unsetting: [inherited], in: folder.path)
        let resolved = URL(fileURLWithPath: folder.path).resolvingSymlinksInPath().path
        #expect(outcome.stdoutText == "added|0|\(resolved)\n", "\(inherited) taken out")
        #expect(outcome.status == 3)
        // Without stdin bytes the child reads /dev/null, never the test's own stdin.
        #expect(try ChildProcess.run("/bin/sh", ["-c", "wc -c"], timeout: 30).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
    }

    @Test("a child still running at its timeout is killed, and the test is told so with what it wrote")
    func timeoutKillsAndFails() throws {
        let started = Date()
        let timeout = try #require(throws: ChildProcess.Timeout.self) {
            try ChildProcess.run("/bin/sh", ["-c", "echo started >&2; exec sleep 60"], timeout: 1)
        }
        #expect(Date().timeIntervalSince(started) < 30)
        #expect(timeout.description.contains("did not end within 1.0 s and was killed"))
        #expect(timeout.stderr.contains("started"))
    }

    @Test("a missing executable is an error naming it, not a crash")
    func missingExecutable() throws {
        let error = try #require(throws: ChildProcess.NotExecutable.self) { try ChildProcess.run("/nonexistent/sov-nothing") }
        #expect(error.description.contains("/nonexistent/sov-nothing"))
    }
}
