import Foundation
import SOVCore
import SOVTestSupport
import Testing

/// Change orders that wait for the end of a batch are set aside as canonical JSON: what comes
/// back must be the very document set aside, in the order of places, and an input rolled back
/// takes back what it set aside.
@Suite struct DocumentSpillTests {
    /// Every sample, parsed and marked up by the stage executables: contracts, change orders both
    /// ways, computed markups, warnings.
    static func sampleDocuments() throws -> [CanonicalDocument] {
        let inputs = [
            "samples/spectrum/jobs.csv", "samples/spectrum/sov.csv", "samples/spectrum/change_orders.csv",
            "samples/spectrum/GetJobMain.xml", "samples/spectrum/sov-2040.xml",
            "samples/procore/pcco-event.json", "samples/procore/pcco-package.json",
        ].map(Checkout.path)
        let parsed = try ChildProcess.run(Checkout.executable("sov-parse"), inputs)
        let marked = try ChildProcess.run(
            Checkout.executable("sov-markup"), ["--markups", Checkout.path("samples/markups.toml")], stdin: parsed.stdout)
        return try marked.jsonLines().map { try CanonicalDocument(json: $0) }
    }

    @Test func documentsComeBackEqualInPlaceOrder() throws {
        var documents = try Self.sampleDocuments()
        #expect(documents.contains { if case .changeOrder(let order) = $0 { order.computed != nil } else { false } })
        // A warning on each, so diagnostics make the trip too.
        for index in documents.indices {
            switch documents[index] {
            case .primeContract(var contract):
                contract.diagnostics.append(.warning(.FMT005, "Job_Description longer than 25 ✓ \"quoted\"", at: SourceLocation(file: "jobs.csv", line: index + 2)))
                documents[index] = .primeContract(contract)
            case .changeOrder(var order):
                order.diagnostics.append(.warning(.MAP004, "taken from the map\n(second line)", at: SourceLocation(file: "map.csv", line: index)))
                documents[index] = .changeOrder(order)
            }
        }
        // A memory limit of 1 KB: nearly all of them go through the temporary file.
        let spill = DocumentSpill(memoryLimit: 1024)
        let places = Array(documents.indices).reversed()
        for place in places { try spill.append(documents[place], place: place) }
        #expect(spill.count == documents.count)
        var back: [(Int, CanonicalDocument)] = []
        try spill.drain { back.append(($0, $1)) }
        #expect(back.map(\.0) == Array(documents.indices))
        #expect(back.map(\.1) == documents)
        #expect(spill.isEmpty)
    }

    @Test func truncatingToAMarkForgetsWhatCameAfter() throws {
        let documents = try Self.sampleDocuments()
        #expect(documents.count >= 3)
        let spill = DocumentSpill(memoryLimit: 512)
        try spill.append(documents[0], place: 0)
        let mark = spill.mark
        try spill.append(documents[1], place: 1)
        try spill.append(documents[2], place: 2)
        try spill.truncate(to: mark)
        try spill.append(documents[2], place: 5)
        var back: [(Int, CanonicalDocument)] = []
        try spill.drain { back.append(($0, $1)) }
        #expect(back.map(\.0) == [0, 5])
        #expect(back.map(\.1) == [documents[0], documents[2]])
    }
}
