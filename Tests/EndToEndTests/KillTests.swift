import Foundation
import SOVCore
import SOVTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Moves every unit file out of a folder as soon as it appears, as a program that sends them
/// on would, until stopped. Its own thread; bounded by `stop()` and a 5-minute safety net.
final class OutboxConsumer: @unchecked Sendable {
    private let from: String
    private let to: String
    private let lock = NSLock()
    private var stopped = false
    private var thread: Thread?
    private(set) var moved = 0

    init(from: String, to: String) {
        self.from = from
        self.to = to
        try? FileManager.default.createDirectory(atPath: to, withIntermediateDirectories: true)
        let thread = Thread { [self] in loop() }
        self.thread = thread
        thread.start()
    }

    private var isStopped: Bool { lock.withLock { stopped } }

    private func loop() {
        let deadline = Date(timeIntervalSinceNow: 300)
        while !isStopped && Date() < deadline {
            sweep()
            usleep(2_000)
        }
    }

    /// One pass: every unit file now in the folder, moved (a rename, as consumers do) under a
    /// name of its own, so that a unit sent twice shows as two files.
    func sweep() {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: from)) ?? [] where UnitFiles.slug(name) != nil && !name.hasPrefix(".") {
            let number = lock.withLock { moved }
            if rename(from + "/" + name, to + "/" + String(number) + "-" + name) == 0 { lock.withLock { moved += 1 } }
        }
    }

    func stop() {
        lock.withLock { stopped = true }
        while thread?.isFinished == false { usleep(1_000) }
        sweep()
    }
}

/// Kill -9 at random points of `sov-run --out` and `sov-watch` over a 200-file batch, with and
/// without a consumer taking units out of the outbox between kills: afterwards every document is
/// in exactly one unit, none in two, and every input is archived.
@Suite(.serialized)
struct KillTests {
    static let files = 200

    /// 200 flat contract exports, one contract each, and the project map for them.
    static func batch(in folder: TemporaryFolder, under name: String) throws -> (inputs: String, map: String, origins: Set<String>) {
        var origins: Set<String> = []
        var map = "company,job,customer,project_id,prime_contract_id\n"
        for index in 0..<files {
            let job = "24-\(8000 + index)"
            folder.write("\(name)/\(String(format: "%03d", index)).csv", SpectrumExports.contracts([SpectrumExports.contract(job: job)]))
            map += "1,\(job),,\(80_000 + index),\n"
            origins.insert("spectrum:1:\(job):OWN100")
        }
        folder.write("map.csv", map)
        return (folder.file(name), folder.file("map.csv"), origins)
    }

    /// Starts an executable in the package root with its output to a log file.
    static func start(_ name: String, _ arguments: [String], log: String) throws -> ChildProcess {
        try ChildProcess(Checkout.executable(name), arguments, in: Checkout.root, output: .file(log))
    }

    /// How long an uninterrupted run of `arguments` takes, in milliseconds (on a copy of the
    /// inputs: the kill points are spread over that time).
    static func duration(_ name: String, _ arguments: [String], in folder: TemporaryFolder) throws -> UInt32 {
        let started = Date()
        _ = try start(name, arguments, log: folder.file("calibrate.log")).wait()
        return UInt32(max(20, Date().timeIntervalSince(started) * 1000))
    }

    /// Runs `arguments` `kills` times, each killed with SIGKILL after a random pause within
    /// `milliseconds`, then once to the end; returns the pauses (for the failure message), how
    /// many kills hit a running process, and the last exit status.
    static func killRepeatedly(_ name: String, _ arguments: [String], kills: Int, within milliseconds: UInt32, in folder: TemporaryFolder) throws -> (pauses: [UInt32], hits: Int, status: Int32) {
        var pauses: [UInt32] = []
        var hits = 0
        for attempt in 0..<kills {
            let pause = UInt32.random(in: 5...max(6, milliseconds))
            pauses.append(pause)
            let process = try start(name, arguments, log: folder.file("kill-\(attempt).log"))
            usleep(pause * 1000)
            process.send(SIGKILL)
            if try process.wait().killedBySignal { hits += 1 }
        }
        let last = try start(name, arguments, log: folder.file("final.log")).wait()
        return (pauses, hits, last.status)
    }

    /// Every unit file in these folders, by the origin id inside it; each must be whole JSON.
    static func unitOrigins(in folders: [String]) throws -> [String] {
        var origins: [String] = []
        for folder in folders {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where !name.hasPrefix(".") && name.hasSuffix(".json") {
                let bytes = try #require(FileManager.default.contents(atPath: folder + "/" + name))
                let object = try JSONParser.parse(Array(bytes))
                origins.append(try #require(object["origin_id"]?.stringValue))
            }
        }
        return origins
    }

    static func expectEachOnce(_ found: [String], _ expected: Set<String>, ledger: String, pauses: [UInt32]) throws {
        var counts: [String: Int] = [:]
        for origin in found { counts[origin, default: 0] += 1 }
        let twice = counts.filter { $0.value > 1 }.keys.sorted()
        let missing = expected.subtracting(counts.keys).sorted()
        #expect(twice.isEmpty, "in two units: \(twice.prefix(5)) (kills after \(pauses) ms)")
        #expect(missing.isEmpty, "in no unit: \(missing.prefix(5)) (kills after \(pauses) ms)")
        #expect(found.count == expected.count)
        let units = try ledgerList(ledger).filter { $0.text("kind") == "unit" }
        #expect(units.count == expected.count, "one unit each in the ledger (kills after \(pauses) ms)")
        #expect(Set(units.compactMap { $0.text("origin_id") }) == expected)
        #expect(units.allSatisfy { $0.text("state") != "superseded" })
    }

    @Test(arguments: [false, true])
    func sovRunKilledAtRandomPoints(withConsumer: Bool) throws {
        let folder = TemporaryFolder()
        let batch = try Self.batch(in: folder, under: "in")
        let out = folder.file("out")
        let consumer = withConsumer ? OutboxConsumer(from: out, to: folder.file("consumed")) : nil
        let arguments = ["--ledger", folder.file("l.sqlite"), "--project-map", batch.map, "--out", out, batch.inputs]
        // Each killed run may have committed part of the batch: the next one has less to do, so
        // the kill points shrink with it.
        let full = try Self.duration("sov-run", ["--ledger", folder.file("calibrate.sqlite"), "--project-map", batch.map, "--out", folder.file("calibrate-out"), batch.inputs], in: folder)
        let (pauses, hits, status) = try Self.killRepeatedly("sov-run", arguments, kills: 12, within: full * 9 / 10, in: folder)
        consumer?.stop()
        #expect(hits >= 2, "kills that hit a running sov-run: \(hits) of 12 (pauses \(pauses) ms, a whole run \(full) ms)")
        #expect(status == 0, "\(folder.text("final.log") ?? "")")
        try Self.expectEachOnce(try Self.unitOrigins(in: [out, folder.file("consumed")]), batch.origins, ledger: folder.file("l.sqlite"), pauses: pauses)
        #expect(folder.names("out/.staging").isEmpty)
    }

    @Test(arguments: [false, true])
    func sovWatchKilledAtRandomPoints(withConsumer: Bool) throws {
        let folder = TemporaryFolder()
        let batch = try Self.batch(in: folder, under: "drop/inbox")
        let past = Date(timeIntervalSinceNow: -60)
        for name in folder.names("drop/inbox") {
            try FileManager.default.setAttributes([.modificationDate: past], ofItemAtPath: folder.file("drop/inbox/" + name))
        }
        let outbox = folder.file("drop/outbox")
        let consumer = withConsumer ? OutboxConsumer(from: outbox, to: folder.file("consumed")) : nil
        let arguments = [folder.file("drop"), "--once", "--settle", "0", "--project-map", batch.map]
        try FileManager.default.copyItem(atPath: folder.file("drop"), toPath: folder.file("calibrate"))
        let full = try Self.duration("sov-watch", [folder.file("calibrate"), "--once", "--settle", "0", "--project-map", batch.map], in: folder)
        // Each watcher run archives what it finished: a run after a whole one has nothing to do,
        // so the kill points stay within the first third of a whole run, and most land mid-run.
        let (pauses, hits, status) = try Self.killRepeatedly("sov-watch", arguments, kills: 12, within: full / 3, in: folder)
        consumer?.stop()
        #expect(hits >= 2, "kills that hit a running sov-watch: \(hits) of 12 (pauses \(pauses) ms, a whole run \(full) ms)")
        #expect(status == 0, "\(folder.text("final.log") ?? "")")
        #expect(folder.names("drop/inbox").isEmpty)
        #expect(folder.names("drop/work").isEmpty)
        #expect(folder.names("drop/archive").count == Self.files)
        #expect(folder.names("drop/failed").isEmpty)
        try Self.expectEachOnce(
            try Self.unitOrigins(in: [outbox, folder.file("consumed")]), batch.origins,
            ledger: folder.file("drop/sovbridge-ledger.sqlite"), pauses: pauses)
    }
}
