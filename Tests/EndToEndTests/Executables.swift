import Foundation
import SOVTestSupport
import SOVCore

#if canImport(Glibc)
import Glibc
#endif

/// The package checkout (samples/, Tests/Fixtures/) and the built executables.
enum Package {
    /// Tests/EndToEndTests/Executables.swift -> the package root. Children run here, so the
    /// inputs are named by relative paths and the file names in their output are stable.
    static let root: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// `swift build` puts the executables beside the test bundle; `.build/debug` if the bundle
    /// runs from elsewhere.
    static let binFolder: String = {
        let besideBundle = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().path
        if FileManager.default.isExecutableFile(atPath: besideBundle + "/sov-parse") { return besideBundle }
        return root + "/.build/debug"
    }()

    static func path(_ relative: String) -> String { root + "/" + relative }
}

/// What one run of an executable gave.
struct Outcome: Sendable {
    var status: Int32
    var stdout: Data
    var stderr: String

    var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    /// stderr split into lines, without the empty string after the last newline.
    var stderrLines: [String] { stderr.split(separator: "\n", omittingEmptySubsequences: false).dropLast(stderr.hasSuffix("\n") ? 1 : 0).map(String.init) }
    /// stdout as JSON Lines (every line must be JSON).
    func jsonLines() throws -> [JSONValue] {
        try JSONParser.parseSequence(Array(stdout)).map(\.value)
    }
}

/// Runs a built executable with its stdin, stdout and stderr on pipes.
enum Tool {
    /// A child that exits before reading all of its stdin must not kill the test with SIGPIPE.
    private static let ignoreBrokenPipes: Void = { signal(SIGPIPE, SIG_IGN) }()

    /// Runs `name` in the package root. `stdin` nil means /dev/null (never the test's own stdin).
    /// SPECTRUM_AUTHORIZATION_ID is taken out of the inherited environment unless `environment`
    /// sets it, so whether it is set is up to the test.
    static func run(_ name: String, _ arguments: [String] = [], stdin: Data? = nil, environment: [String: String] = [:], in directory: String = Package.root) throws -> Outcome {
        _ = ignoreBrokenPipes
        let executable = Package.binFolder + "/" + name
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw MissingExecutable(path: executable)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var inherited = ProcessInfo.processInfo.environment
        inherited["SPECTRUM_AUTHORIZATION_ID"] = nil
        process.environment = inherited.merging(environment) { $1 }

        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        let input = stdin.map { _ in Pipe() }
        process.standardInput = input ?? FileHandle.nullDevice
        try process.run()

        // stdin is written and stderr read on their own threads while this one reads stdout: a
        // child blocked on any one of the three pipes cannot stall the others.
        let group = DispatchGroup()
        let errorText = Collected()
        let errorHandle = errors.fileHandleForReading
        DispatchQueue.global().async(group: group) {
            errorText.set(errorHandle.readDataToEndOfFile())
        }
        if let stdin, let writer = input?.fileHandleForWriting {
            DispatchQueue.global().async(group: group) {
                try? writer.write(contentsOf: stdin)
                try? writer.close()
            }
        }
        let stdout = output.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, stdout: stdout, stderr: String(decoding: errorText.get(), as: UTF8.self))
    }

    /// Runs a bash script (`bash -c SCRIPT bash ARGS...`) in the package root: for the few tests
    /// that need a real shell pipeline.
    static func runShell(_ script: String, _ arguments: [String] = []) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", script, "bash"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: Package.root)
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let errorText = Collected()
        let errorHandle = errors.fileHandleForReading
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) { errorText.set(errorHandle.readDataToEndOfFile()) }
        let stdout = output.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, stdout: stdout, stderr: String(decoding: errorText.get(), as: UTF8.self))
    }

    /// Starts `name` with `environment` added, kills it with SIGKILL after `milliseconds`, and
    /// says whether the kill found it still running (a crash mid-run, not after the end).
    static func killAfter(_ milliseconds: UInt32, _ name: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Package.binFolder + "/" + name)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        usleep(milliseconds * 1000)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        return process.terminationReason == .uncaughtSignal
    }

    /// Runs stages one after the other, each one's stdout the next one's stdin (the first one
    /// gets `stdin`), like a shell pipeline; returns every stage's outcome.
    static func pipeline(_ stages: [(name: String, arguments: [String])], stdin: Data? = nil, environment: [String: String] = [:]) throws -> [Outcome] {
        var outcomes: [Outcome] = []
        var next = stdin
        for stage in stages {
            let outcome = try run(stage.name, stage.arguments, stdin: next ?? Data(), environment: environment)
            outcomes.append(outcome)
            next = outcome.stdout
        }
        return outcomes
    }
}

struct MissingExecutable: Error, CustomStringConvertible {
    var path: String
    var description: String { "\(path) is not built: run `swift build` before the end-to-end tests" }
}

/// Bytes handed from a reader thread to the test's thread.
private final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()

    func set(_ value: Data) { lock.withLock { data = value } }
    func get() -> Data { lock.withLock { data } }
}

/// A fresh folder under /tmp, removed when the test ends.
final class TemporaryFolder {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "sov-e2e-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    func file(_ name: String) -> String { path + "/" + name }

    @discardableResult
    func write(_ name: String, _ bytes: Data) throws -> String {
        let target = file(name)
        try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try bytes.write(to: URL(fileURLWithPath: target))
        return target
    }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String { try write(name, Data(text.utf8)) }

    func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: file(name)) }
    func bytes(_ name: String) -> Data? { FileManager.default.contents(atPath: file(name)) }
    func text(_ name: String) -> String? { bytes(name).map { String(decoding: $0, as: UTF8.self) } }

    func names(_ folder: String = ".") -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: file(folder))) ?? []).sorted()
    }

    /// A JSON Lines file written by an executable (e.g. --rejects).
    func jsonLines(_ name: String) throws -> [JSONValue] {
        try JSONParser.parseSequence(Array(bytes(name) ?? Data())).map(\.value)
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

extension TemporaryFolder {
    /// The unit files directly in `folder` (not its subfolders or hidden files), by slug.
    func units(_ folder: String) -> [String] {
        names(folder).filter { !$0.hasPrefix(".") && UnitFiles.slug($0) != nil && !isFolder(folder + "/" + $0) }.compactMap(UnitFiles.slug).sorted()
    }

    /// The path (relative to this folder) of the unit with this slug in `folder`.
    func unit(_ folder: String, _ slug: String) -> String {
        let name = names(folder).first { UnitFiles.slug($0) == slug } ?? slug
        return folder + "/" + name
    }

    private func isFolder(_ name: String) -> Bool {
        var folder: ObjCBool = false
        return FileManager.default.fileExists(atPath: file(name), isDirectory: &folder) && folder.boolValue
    }
}
