import SOVCore

/// MAP001: a Spectrum document bound for Procore needs the Procore project of its job.
public struct ProjectMapped: ValidationRule {
    public let code = DiagnosticCode.MAP001
    public init() {}

    public func check(_ document: CanonicalDocument, in context: ValidationContext) -> [Diagnostic] {
        guard document.origin.system == .spectrum else { return [] }
        let location = document.source.with(field: "Job_Number")
        switch context.procoreTarget(for: document) {
        case .noContractKey, .mapped:
            return []
        case .unmapped(let key):
            return [Rulebook.unmappedJob(key, at: document.source, projectMap: context.projectMap?.file)]
        case .conflict(let key, let carried, let row):
            let mapSays = "project \(row.projectId)" + (row.primeContractId.map { ", prime contract \($0)" } ?? "")
            let documentSays = "project \(carried.projectId ?? "?")" + (carried.primeContractId.map { ", prime contract \($0)" } ?? "")
            return [.error(code, "the document is bound for Procore \(documentSays) but the project map (\(mapFile(context)):\(row.line)) maps job \(key.job) to \(mapSays)", at: location, value: key.job)]
        }
    }
}

/// MAP002: a prime contract id that a Spectrum change order bound for Procore carries must be
/// one the project map knows. The map's prime_contract_id is optional: without it the change
/// order follows the contract SOVBridge creates for the job.
public struct PrimeContractMapped: ValidationRule {
    public let code = DiagnosticCode.MAP002
    public init() {}

    public func check(_ document: CanonicalDocument, in context: ValidationContext) -> [Diagnostic] {
        guard case .changeOrder(let order) = document, order.origin.system == .spectrum,
            case .mapped(let link, let row) = context.procoreTarget(for: document)
        else { return [] }  // unmapped jobs are MAP001's
        // No id in the map: the contract is the one created from this job, and its id is filled
        // in at delivery (the batch runner holds the change order until that contract is known).
        guard let primeContractId = link.primeContractId else { return [] }
        if row == nil, let map = context.projectMap, !map.knowsPrimeContract(primeContractId) {
            return [.error(code, "Procore prime contract \(primeContractId) is not in the project map \(map.file)", at: order.source.with(field: "procore.prime_contract_id"), value: primeContractId)]
        }
        return []
    }
}

/// MAP003: a Procore change order bound for Spectrum needs the Spectrum company, job and
/// customer: from the document's origin, or from the project map.
public struct SpectrumContractKnown: ValidationRule {
    public let code = DiagnosticCode.MAP003
    public init() {}

    public func check(_ document: CanonicalDocument, in context: ValidationContext) -> [Diagnostic] {
        guard case .changeOrder(let order) = document, order.origin.system == .procore,
            context.spectrumContract(for: order) == .unknown
        else { return [] }
        return [Rulebook.unknownSpectrumContract(order, projectMap: context.projectMap?.file)]
    }
}

private func mapFile(_ context: ValidationContext) -> String { context.projectMap?.file ?? "<project map>" }

/// Checks a project map before use: Procore ids are whole numbers, and two rows for the same
/// company, job and customer must agree (the map would otherwise pick one at random). Either
/// problem makes the whole map unusable, since a wrong map sends documents to the wrong project.

public enum ProjectMapCheck {
    /// Every stage and the batch runner read the project map this way. A missing map is exit 66;
    /// a malformed one (bad CSV, no job column, ids that are not Procore ids, rows that
    /// disagree) exit 65: a wrong map would send documents to the wrong project, so nothing runs
    /// against it.
    public static func load(_ path: String) -> Result<ProjectMap, InputFailure> {
        let map: ProjectMap
        do {
            map = try ProjectMap.load(path)
        } catch {
            return .failure(InputFailure(file: path, [error], message: "the project map cannot be used"))
        }
        let problems = problems(in: map)
        return problems.isEmpty ? .success(map) : .failure(InputFailure(file: path, problems, message: "the project map cannot be used"))
    }

    public static func problems(in map: ProjectMap) -> [Diagnostic] {
        // Two rows can map the same contract only when they name the same job: in a map whose
        // jobs are all different (the bench's 2,000 rows), the dictionary of the rows seen, a
        // hash of three Strings a row, has nothing to find.
        problems(in: map, comparingRows: map.hasRepeatedJobs)
    }

    /// - Parameter comparingRows: whether to look for rows that map the same contract (MAP001).
    static func problems(in map: ProjectMap, comparingRows: Bool) -> [Diagnostic] {
        var problems: [Diagnostic] = []
        // Every run reads the whole map (2,000 rows in the bench): sized once, a location made
        // only for a problem.
        var seen: [ContractPattern: Int] = [:]
        if comparingRows { seen.reserveCapacity(map.mappings.count) }
        for (index, row) in map.mappings.enumerated() {
            func location(_ field: String) -> SourceLocation { SourceLocation(file: map.file, line: row.line, field: field) }
            if !isWholeNumber(row.projectId) {
                problems.append(.error(.FMT006, "project_id '\(row.projectId)' is not a Procore id (a whole number)", at: location("project_id"), value: row.projectId))
            }
            if let prime = row.primeContractId, !isWholeNumber(prime) {
                problems.append(.error(.FMT006, "prime_contract_id '\(prime)' is not a Procore id (a whole number)", at: location("prime_contract_id"), value: prime))
            }
            guard comparingRows else { continue }
            let pattern = ContractPattern(company: row.company, job: row.job, customer: row.customer)
            if let earlierIndex = seen[pattern] {
                let earlier = map.mappings[earlierIndex]
                if earlier.projectId != row.projectId || earlier.primeContractId != row.primeContractId {
                    problems.append(.error(.MAP001, "this row maps job \(row.job) like line \(earlier.line) but to another project or prime contract", at: location("project_id"), value: row.projectId))
                }
            } else {
                seen[pattern] = index
            }
        }
        return problems
    }

    private struct ContractPattern: Hashable {
        var company: String?
        var job: String
        var customer: String?
    }

    private static func isWholeNumber(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }
}
