import SOVBatch
import SOVCore
import SOVFrontEnd
import SOVTestSupport
import Testing

/// Streaming mode reads on a thread of its own (SOVFrontEnd's ReadingThread.swift): the sink
/// must see what it saw when the loop ran on its own thread, in the same order, and an error on
/// either side must end the read, with the reading thread gone, instead of hanging it.
@Suite struct ReadingThreadTests {
    static let header = "Company_Code,Job_Number,Customer_Code,Job_Description,Original_Contract,Billing_Item,Line_Amount\n"

    /// `count` one-line contracts, jobs numbered from `first`.
    static func contracts(_ count: Int, from first: Int = 1) -> String {
        (first..<(first + count)).map { "1,24-\(7000 + $0),OWN900,Job \($0),100.00,01,100.00\n" }.joined()
    }

    /// What a sink was told, in order.
    enum Told: Equatable {
        case begin(String)
        case document(CanonicalDocument)
        case reject(Reject)
        case warn(Diagnostic)
        case end(String)
        case fail(InputFailure, dropped: Int)

        static func == (a: Told, b: Told) -> Bool {
            switch (a, b) {
            case (.begin(let x), .begin(let y)), (.end(let x), .end(let y)): x == y
            case (.document(let x), .document(let y)): x == y
            case (.reject(let x), .reject(let y)): x == y
            case (.warn(let x), .warn(let y)): x == y
            case (.fail(let x, let m), .fail(let y, let n)): x.path == y.path && x.status == y.status && x.message == y.message && x.diagnostics == y.diagnostics && m == n
            default: false
            }
        }

        var isDocument: Bool { if case .document = self { true } else { false } }
    }

    struct SinkBroke: Error {}

    /// Records what it is told, on the thread it is told on; throws `SinkBroke` when `breaks`
    /// says so for an event (after recording it).
    final class RecordingSink: InputSink {
        var told: [Told] = []
        let breaks: (Told, _ documents: Int) -> Bool
        var documents = 0

        init(breaks: @escaping (Told, Int) -> Bool = { _, _ in false }) {
            self.breaks = breaks
        }

        private func record(_ event: Told) throws {
            told.append(event)
            if event.isDocument { documents += 1 }
            if breaks(event, documents) { throw SinkBroke() }
        }

        func begin(_ input: String) throws { try record(.begin(input)) }
        func document(_ document: CanonicalDocument) throws { try record(.document(document)) }
        func reject(_ reject: Reject) throws { try record(.reject(reject)) }
        func warn(_ diagnostic: Diagnostic) { told.append(.warn(diagnostic)) }
        func end(_ input: String) throws { try record(.end(input)) }
        func fail(_ failure: InputFailure, dropped: Int) throws { try record(.fail(failure, dropped: dropped)) }
    }

    /// A batch with a bit of everything: warnings (blank rows), a rejected document (a duplicate
    /// key), an input missing, a folder named as a file, and an input unusable halfway after more
    /// documents than the queue between the threads holds.
    static func batch(_ folder: TemporaryFolder) -> [String] {
        _ = folder.write("d/inside.csv", header + contracts(1, from: 300))
        return [
            folder.write("a.csv", header + contracts(40) + ",,,,,,\n" + contracts(3, from: 41)),
            folder.write("b.jsonl", #"{"id":1,"id":2}"# + "\n"),
            folder.file("missing.csv"),
            folder.write("c-bad.csv", header + contracts(60, from: 100) + "1,24-9999,OWN900,\"unterminated,1.00,01,1.00\n"),
            folder.file("d"),
            folder.write("e.csv", header + contracts(5, from: 400)),
        ]
    }

    static func read(_ paths: [String], threaded: Bool, reader: DocumentInputReader = DocumentInputReader(), into sink: RecordingSink) throws {
        try FrontEnd.read(paths, reader: reader, mode: .streaming, usingReadingThread: threaded, naming: { $0.hasSuffix("e.csv") ? "renamed-e.csv" : $0 }, into: sink)
    }

    @Test func theSinkIsToldWhatTheDirectPathTellsItInTheSameOrder() throws {
        let folder = TemporaryFolder()
        let paths = Self.batch(folder)
        let direct = RecordingSink()
        try Self.read(paths, threaded: false, into: direct)
        let threaded = RecordingSink()
        try Self.read(paths, threaded: true, into: threaded)
        #expect(threaded.told == direct.told)
        // The batch has what it is meant to have, so the comparison means something.
        // (c-bad.csv: its last contract is not complete when the unterminated quote is found.)
        #expect(direct.told.filter(\.isDocument).count == 43 + 59 + 5)
        #expect(direct.told.contains { if case .warn = $0 { true } else { false } })
        #expect(direct.told.contains { if case .reject = $0 { true } else { false } })
        #expect(direct.told.contains { if case .fail(_, dropped: 59) = $0 { true } else { false } })
        #expect(direct.told.contains(.begin("renamed-e.csv")))
        #expect(direct.told.filter { if case .fail = $0 { true } else { false } }.count == 3)
        #expect(direct.told.last == .end(FrontEnd.joinedInputs))
    }

    /// The sink throws on the fifth document, with hundreds more to read and the reading thread
    /// blocked on a full queue: the error comes out of `read` (rather than the read hanging),
    /// the sink is told nothing after it, and the reader can read again.
    @Test func aSinkErrorStopsTheReadingAndIsRethrown() throws {
        let folder = TemporaryFolder()
        let big = folder.write("big.csv", Self.header + Self.contracts(500))
        let after = folder.write("after.csv", Self.header + Self.contracts(5, from: 600))
        let reader = DocumentInputReader()
        let sink = RecordingSink { event, documents in event.isDocument && documents == 5 }
        #expect(throws: SinkBroke.self) { try Self.read([big, after], threaded: true, reader: reader, into: sink) }
        #expect(sink.told.count == 6)
        #expect(sink.told.last?.isDocument == true)
        // The reading thread has let go of the reader.
        let again = RecordingSink()
        try Self.read([after], threaded: true, reader: reader, into: again)
        #expect(again.told.filter(\.isDocument).count == 5)
        #expect(again.told.last == .end(FrontEnd.joinedInputs))
    }

    /// The same when the sink throws as it is told of an input's failure or of an input's
    /// beginning: nothing is told after it.
    @Test(arguments: ["fail", "begin"]) func aSinkErrorOnAnyEventIsRethrown(_ kind: String) throws {
        let folder = TemporaryFolder()
        let paths = Self.batch(folder)
        let sink = RecordingSink { event, _ in
            switch event {
            case .fail: kind == "fail"
            case .begin(let input): kind == "begin" && input.hasSuffix("c-bad.csv")
            default: false
            }
        }
        #expect(throws: SinkBroke.self) { try Self.read(paths, threaded: true, into: sink) }
        let direct = RecordingSink(breaks: sink.breaks)
        #expect(throws: SinkBroke.self) { try Self.read(paths, threaded: false, into: direct) }
        #expect(sink.told == direct.told)
    }

    /// sov-run with the standard (threaded) pipeline: an input found unusable after more
    /// contracts than the queue between the threads holds, all exported by then, is undone
    /// whole, while the inputs around it go through.
    @Test func anInputFailingAfterManyDocumentsIsUndone() throws {
        let folder = TemporaryFolder()
        let map = folder.write("map.csv", "company,job,customer,project_id,prime_contract_id\n" + (1...700).map { "1,24-\(7000 + $0),OWN900,\(100000 + $0),\n" }.joined())
        let good = folder.write("a-good.csv", Self.header + Self.contracts(3))
        let bad = folder.write("b-bad.csv", Self.header + Self.contracts(80, from: 100) + "1,24-7999,OWN900,\"unterminated,1.00,01,1.00\n")
        let after = folder.write("c-good.csv", Self.header + Self.contracts(2, from: 600))
        var options = BatchOptions.test(folder, inputs: [good, bad, after], out: "out")
        options.projectMap = map
        let (result, _, stderr) = try runBatch(options, pipeline: try BatchPipeline.standard(options))
        #expect(result.failures.map(\.path) == [bad], "\(stderr)")
        #expect(result.outcomes.map(\.action) == Array(repeating: .exported, count: 5))
        let ledger = try Ledger(path: folder.file("ledger.sqlite"))
        #expect(try ledger.entries().count == 5)
        #expect(folder.units("out").count == 5)
        #expect(try FileSystem.names(in: folder.file("out/.staging")).isEmpty)
    }

    /// sov-run's sink failing (standard output cannot be written) while the reading thread has
    /// inputs left: the run ends with 74, as it did with one thread, instead of hanging.
    @Test func anOutputFailureEndsTheRun() throws {
        let folder = TemporaryFolder()
        let map = folder.write("map.csv", "company,job,customer,project_id,prime_contract_id\n" + (1...700).map { "1,24-\(7000 + $0),OWN900,\(100000 + $0),\n" }.joined())
        let inputs = (0..<4).map { folder.write("in-\($0).csv", Self.header + Self.contracts(150, from: 1 + 150 * $0)) }
        var options = BatchOptions.test(folder, inputs: inputs, out: nil)
        options.projectMap = map
        let err = CapturedOutput()
        let full = try OutputSink(creating: "/dev/full")
        let runner = BatchRunner(pipeline: try BatchPipeline.standard(options), options: options, human: err.sink, standardOutput: full, showProgress: false)
        let result = try runner.run()
        #expect(result.status == .ioError, "\(err.text)")
        #expect(result.fatal != nil)
        #expect(try Ledger(path: folder.file("ledger.sqlite")).entries().isEmpty)
    }
}
