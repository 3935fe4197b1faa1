/// One row of the project map: which Procore project (and prime contract) a Spectrum contract is.
public struct ProjectMapping: Sendable, Hashable {
    /// nil = any company.
    public var company: String?
    public var job: String
    /// nil = any customer of the job.
    public var customer: String?
    public var projectId: String
    public var primeContractId: String?
    public var line: Int

    public init(company: String?, job: String, customer: String?, projectId: String, primeContractId: String?, line: Int = 0) {
        self.company = company
        self.job = job
        self.customer = customer
        self.projectId = projectId
        self.primeContractId = primeContractId
        self.line = line
    }

    public func matches(_ key: ContractKey) -> Bool {
        job == key.job && (company == nil || company == key.company) && (customer == nil || customer == key.customer)
    }

    /// More specific rows win over wildcards.
    var specificity: Int { (company == nil ? 0 : 2) + (customer == nil ? 0 : 1) }
}

/// The project map (`--project-map`): CSV with header `company,job,customer,project_id,prime_contract_id`
/// (docs/FORMATS.md, "The project map"). Blank company or customer means any; prime_contract_id is optional.
public struct ProjectMap: Sendable {
    public let file: String
    public let mappings: [ProjectMapping]
    /// Rows by job, in file order: every document is looked up, and a scan of a 2,000-row map
    /// per document made a batch quadratic. The first row of each job, and after each row the
    /// next of its job (-1 after its last): a job has one row nearly always, and an array per
    /// job cost an allocation each (1,600 instructions a row for the bench's map).
    private let firstRowOfJob: [String: Int]
    private let nextRowOfJob: [Int]
    /// Whether any job has more than one row (only then can two rows map the same contract).
    public let hasRepeatedJobs: Bool

    public init(file: String = "<project map>", mappings: [ProjectMapping]) {
        self.file = file
        self.mappings = mappings
        var first: [String: Int] = [:]
        first.reserveCapacity(mappings.count)
        var next = [Int](repeating: -1, count: mappings.count)
        // From the last row up, each row goes before the rows of its job already linked.
        var repeated = false
        for index in mappings.indices.reversed() {
            if let later = first.updateValue(index, forKey: mappings[index].job) {
                next[index] = later
                repeated = true
            }
        }
        firstRowOfJob = first
        nextRowOfJob = next
        hasRepeatedJobs = repeated
    }

    public static let requiredColumns = ["job", "project_id"]
    public static let knownColumns = ["company", "job", "customer", "project_id", "prime_contract_id"]

    /// The known column `name` most likely misspells (prefix or few edits), if any.
    static func closestColumn(to name: String) -> String? {
        if name.count >= 2, let prefixed = knownColumns.first(where: { $0.hasPrefix(name) || name.hasPrefix($0) }) { return prefixed }
        let scored = knownColumns.map { ($0, editDistance($0, name)) }.min { $0.1 < $1.1 }
        guard let scored, scored.1 <= max(2, scored.0.count / 3) else { return nil }
        return scored.0
    }

    /// Reads the map; any malformed row makes the whole map unusable (a wrong map would send
    /// documents to the wrong project), so the first problem is thrown with its line.
    public static func load(_ path: String) throws(Diagnostic) -> ProjectMap {
        let reader: CSVReader
        do {
            reader = CSVReader(try InputFile(path: path, specialFiles: true))
        } catch {
            throw Diagnostic.error(.IO001, "cannot read the project map: \(error.message)", at: SourceLocation(file: path))
        }
        var columns: [String: Int] = [:]
        var companyColumn, jobColumn, customerColumn, projectColumn, primeContractColumn: Int?
        var mappings: [ProjectMapping] = []
        do {
            while let item = try reader.next() {
                switch item {
                case .malformed(let problem):
                    throw Diagnostic.error(problem.code, "project map: \(problem.message)", at: SourceLocation(file: path, line: problem.line))
                case .record(let record):
                    if columns.isEmpty {
                        for (index, name) in record.fields.enumerated() {
                            let column = name.trimmingSpaces.lowercased()
                            if column.isEmpty { continue }  // a trailing delimiter names nothing
                            // An unknown column is refused rather than ignored: `cust` for
                            // `customer` would otherwise make every row mean "any customer".
                            guard knownColumns.contains(column) else {
                                let closest = closestColumn(to: column).map { " (did you mean '\($0)'?)" } ?? ""
                                throw Diagnostic.error(.FMT004, "project map has an unknown column '\(name)'\(closest); its columns are company,job,customer,project_id,prime_contract_id", at: SourceLocation(file: path, line: record.line, field: name))
                            }
                            guard columns[column] == nil else {
                                throw Diagnostic.error(.FMT004, "project map has the column '\(column)' twice", at: SourceLocation(file: path, line: record.line, field: name))
                            }
                            columns[column] = index
                        }
                        for required in requiredColumns where columns[required] == nil {
                            throw Diagnostic.error(.FMT004, "project map has no '\(required)' column; expected header company,job,customer,project_id,prime_contract_id", at: SourceLocation(file: path, line: record.line))
                        }
                        // Looked up once, not by name in every row.
                        (companyColumn, jobColumn, customerColumn) = (columns["company"], columns["job"], columns["customer"])
                        (projectColumn, primeContractColumn) = (columns["project_id"], columns["prime_contract_id"])
                        continue
                    }
                    func value(_ index: Int?) -> String? {
                        guard let index else { return nil }
                        let text = record.fields[index].trimmingSpaces
                        return text.isEmpty ? nil : text
                    }
                    if record.fields.allSatisfy({ $0.trimmingSpaces.isEmpty }) { continue }
                    let location = SourceLocation(file: path, line: record.line)
                    guard let job = value(jobColumn) else {
                        throw Diagnostic.error(.FMT004, "project map row without a job", at: location.with(field: "job"))
                    }
                    guard let project = value(projectColumn) else {
                        throw Diagnostic.error(.FMT004, "project map row for job \(job) without a project_id", at: location.with(field: "project_id"))
                    }
                    mappings.append(ProjectMapping(company: value(companyColumn), job: job, customer: value(customerColumn), projectId: project, primeContractId: value(primeContractColumn), line: record.line))
                }
            }
        } catch let diagnostic as Diagnostic {
            throw diagnostic
        } catch {
            throw Diagnostic.error(.IO001, "cannot read the project map: \(error)", at: SourceLocation(file: path))
        }
        return ProjectMap(file: path, mappings: mappings)
    }

    /// The most specific row for a Spectrum contract (exact company and customer beat blanks);
    /// among equally specific rows, the first in the file.
    public func mapping(for key: ContractKey) -> ProjectMapping? {
        var best: ProjectMapping?
        var index = firstRowOfJob[key.job] ?? -1
        while index >= 0 {
            let row = mappings[index]
            if row.matches(key), best.map({ $0.specificity < row.specificity }) ?? true { best = row }
            index = nextRowOfJob[index]
        }
        return best
    }

    /// The Spectrum contract of a Procore document: by prime contract id, else by project id, else
    /// by the job Procore carries in `project.origin_code`. Only rows that name company and
    /// customer give a full key; a wildcard row cannot say which customer a change order is for.
    public func contractKey(projectId: String?, primeContractId: String?, job: String?) -> ContractKey? {
        func key(_ rows: [ProjectMapping]) -> ContractKey? {
            let full = rows.compactMap { row -> ContractKey? in
                guard let company = row.company, let customer = row.customer else { return nil }
                return ContractKey(company: company, job: row.job, customer: customer)
            }
            return Set(full).count == 1 ? full.first : nil
        }
        if let primeContractId, let found = key(mappings.filter { $0.primeContractId == primeContractId }) { return found }
        if let projectId, let found = key(mappings.filter { $0.projectId == projectId }) { return found }
        if let job, let found = key(mappings.filter { $0.job == job }) { return found }
        return nil
    }

    /// Whether any row names this prime contract id (MAP002).
    public func knowsPrimeContract(_ id: String) -> Bool {
        mappings.contains { $0.primeContractId == id }
    }
}

extension StringProtocol {
    /// Without surrounding spaces and tabs (Spectrum pads codes); nothing else is touched.
    public var trimmingSpaces: String {
        // Cut by bytes where the cut is plain ASCII (nearly always): walking Characters cost
        // 1,400 instructions a field, and the project map alone trims 10,000 fields a run.
        if let trimmed = utf8.withContiguousStorageIfAvailable(trimmingSpacesByByte), let trimmed { return trimmed }
        return trimmingSpacesByCharacter
    }

    /// `trimmingSpaces` cut by bytes, or nil when a byte beside a cut is not ASCII: a space or a
    /// tab followed by a combining mark (or after a prepended one, such as U+0600) is part of one
    /// Character with it, which is no space and stays. Beside ASCII bytes (of which only CR LF
    /// join, and neither is a space) bytes and Characters cut alike.
    private func trimmingSpacesByByte(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        var start = 0
        var end = bytes.count
        while start < end, bytes[start] == UInt8(ascii: " ") || bytes[start] == UInt8(ascii: "\t") { start += 1 }
        while end > start, bytes[end - 1] == UInt8(ascii: " ") || bytes[end - 1] == UInt8(ascii: "\t") { end -= 1 }
        if start > 0, start < bytes.count, bytes[start] >= 0x80 { return nil }
        if end < bytes.count, end > start, bytes[end - 1] >= 0x80 { return nil }
        // Nothing to cut (nearly every field): the String itself, not a copy.
        if start == 0, end == bytes.count, let whole = self as? String { return whole }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
    }

    /// `trimmingSpaces` by Character, for any text (the tests' oracle of the byte path).
    public var trimmingSpacesByCharacter: String {
        var start = startIndex
        var end = endIndex
        while start < end, self[start] == " " || self[start] == "\t" { start = index(after: start) }
        while end > start {
            let before = index(before: end)
            guard self[before] == " " || self[before] == "\t" else { break }
            end = before
        }
        return String(self[start..<end])
    }
}

/// Levenshtein distance between two short names (headers, columns), by Unicode scalar.
public func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.unicodeScalars)
    let b = Array(b.unicodeScalars)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
