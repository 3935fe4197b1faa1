import Foundation
import SOVTestSupport
import SOVCore

#if canImport(Glibc)
import Glibc
#endif

/// Runs the built executables (through SOVTestSupport's `ChildProcess`), in the package root
/// unless told otherwise, so the inputs are named by relative paths and the file names in their
/// output are stable.
enum Tool {
    /// Runs `name` to its end. `stdin` nil means /dev/null (never the test's own stdin).
    /// SPECTRUM_AUTHORIZATION_ID is taken out of the inherited environment unless `environment`
    /// sets it, so whether it is set is up to the test.
    static func run(_ name: String, _ arguments: [String] = [], stdin: Data? = nil, environment: [String: String] = [:], in directory: String = Checkout.root) throws -> ProcessOutcome {
        try ChildProcess.run(
            Checkout.executable(name), arguments, stdin: stdin, environment: environment, unsetting: ["SPECTRUM_AUTHORIZATION_ID"], in: directory)
    }

    /// Runs a bash script (`bash -c SCRIPT bash ARGS...`) in the package root: for the few tests
    /// that need a real shell pipeline.
    static func runShell(_ script: String, _ arguments: [String] = []) throws -> ProcessOutcome {
        try ChildProcess.run("/bin/bash", ["-c", script, "bash"] + arguments, in: Checkout.root)
    }

    /// Starts `name` with `environment` added, kills it with SIGKILL after `milliseconds`, and
    /// says whether the kill found it still running (a crash mid-run, not after the end).
    static func killAfter(_ milliseconds: UInt32, _ name: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Bool {
        let child = try ChildProcess(Checkout.executable(name), arguments, environment: environment, output: .discarded)
        usleep(milliseconds * 1000)
        child.send(SIGKILL)
        return try child.wait().killedBySignal
    }

    /// Runs stages one after the other, each one's stdout the next one's stdin (the first one
    /// gets `stdin`), like a shell pipeline; returns every stage's outcome.
    static func pipeline(_ stages: [(name: String, arguments: [String])], stdin: Data? = nil, environment: [String: String] = [:]) throws -> [ProcessOutcome] {
        var outcomes: [ProcessOutcome] = []
        var next = stdin
        for stage in stages {
            let outcome = try run(stage.name, stage.arguments, stdin: next ?? Data(), environment: environment)
            outcomes.append(outcome)
            next = outcome.stdout
        }
        return outcomes
    }
}

/// Reading canonical documents and import objects in assertions.
extension JSONValue {
    /// A string member, or the text of a number member.
    func text(_ path: String...) -> String? {
        var value: JSONValue? = self
        for key in path { value = value?[key] }
        return value?.scalarText
    }

    var array: [JSONValue] { arrayValue ?? [] }
}

/// The sum of money texts, exactly.
func total(_ amounts: [String?]) throws -> Money {
    try amounts.reduce(Money.zero()) { sum, text in
        guard let text else { throw MissingAmount() }
        return sum + (try Money.parse(text))
    }
}

struct MissingAmount: Error {}

func money(_ text: String) throws -> Money { try Money.parse(text) }

/// Every `{name}` placeholder in the strings of `value` (at any depth).
func placeholders(in value: JSONValue) -> [String] {
    switch value {
    case .string(let text): placeholders(in: text)
    case .array(let values): values.flatMap { placeholders(in: $0) }
    case .object(let members): members.flatMap { placeholders(in: $0.value) }
    case .null, .bool, .number: []
    }
}

/// Every `{name}` (lower-case letters and underscores) in `text`.
func placeholders(in text: String) -> [String] {
    var found: [String] = []
    var current: String?
    for character in text {
        if character == "{" {
            current = "{"
        } else if var open = current {
            if character == "}" {
                if open.count > 1 { found.append(open + "}") }
                current = nil
            } else if character == "_" || ("a"..."z").contains(character) {
                open.append(character)
                current = open
            } else {
                current = nil
            }
        }
    }
    return found
}
