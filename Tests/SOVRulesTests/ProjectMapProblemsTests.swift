import SOVCore
@testable import SOVRules
import SOVTestSupport
import Testing

/// `ProjectMapCheck.problems` compares rows only in a map where some job has more than one row;
/// these check it finds what comparing every row finds, in maps with and without such jobs.
@Suite("Project map problems")
struct ProjectMapProblemsTests {
    @Test func comparingRowsOnlyWhereAJobRepeatsFindsTheSameProblems() {
        var random = SplitMix64(seed: 0x3A9_0001)
        let companies: [String?] = [nil, "1", "2"]
        let customers: [String?] = [nil, "OWN100", "OWN200"]
        let ids = ["100", "200", "x1", "300"]
        var repeatedSeen = 0
        for round in 0..<500 {
            let count = Int(random.next() % 10)
            let rows = (0..<count).map { line in
                ProjectMapping(
                    company: companies[Int(random.next() % 3)],
                    // Every other map with each job its own; the others from a few jobs.
                    job: round % 2 == 0 ? "J-\(line)" : ["24-1017", "24-2040", "7"][Int(random.next() % 3)],
                    customer: customers[Int(random.next() % 3)], projectId: ids[Int(random.next() % 4)],
                    primeContractId: random.next() % 2 == 0 ? nil : ids[Int(random.next() % 4)], line: line + 2)
            }
            let map = ProjectMap(file: "map.csv", mappings: rows)
            #expect(map.hasRepeatedJobs == (Set(rows.map(\.job)).count < rows.count))
            if map.hasRepeatedJobs { repeatedSeen += 1 }
            #expect(ProjectMapCheck.problems(in: map) == ProjectMapCheck.problems(in: map, comparingRows: true))
        }
        #expect(repeatedSeen > 100)
    }
}
