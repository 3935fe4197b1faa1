import SOVCore

/// Markup definitions for change orders that carry none, as Procore applies a prime contract's
/// financial markup settings to every change order (`sov-markup --markups FILE`). A document's
/// own markups always win: these apply only when its `markups` list is empty.
///
/// The file is JSON (`.json`) or TOML (any other name), read by `ConfigFile` into this shape:
///
///     {
///       "default": [ <markup>, ... ],
///       "jobs": [
///         { "job": "24-1017", "markups": [ <markup>, ... ] },
///         { "company": "1", "job": "24-1017", "customer": "OWN100", "markups": [ ... ] }
///       ]
///     }
///
/// or in TOML: `[[default]]` tables, and `[[jobs]]` tables each with `[[jobs.markups]]`.
///
/// - `default` (optional): markups for change orders that no `jobs` entry matches.
/// - `jobs` (optional): entries keyed by Spectrum job, optionally narrowed by company and by
///   customer (a job may have several customers, each its own prime contract). A missing or
///   blank company or customer means any. The key of a change order is its `contract` key, else
///   its `origin`. When several entries match, the most specific wins: job + customer (+ company)
///   over job + company over job alone; two entries with the same key are an error.
/// - `<markup>`: the canonical markup shape: `name`, `set` ("horizontal" | "vertical"), `percent`
///   ("3.5" or 3.5, up to 6 decimals) or `amount` (a vertical lump sum, "250.00"), `position`
///   (optional; defaults to the order in the list), `compound` (optional: "none", "above" or a
///   list of names), `prime_line_item` (optional billing item code), `calculation` (optional:
///   "basic" or "compounding").
///
/// Unknown keys are errors here (unlike in source documents): a misspelt key in a settings file
/// would otherwise silently change what is billed.
public struct MarkupDefaults: Sendable {
    /// One `jobs` entry.
    public struct JobEntry: Sendable, Hashable {
        public var company: String?
        public var job: String
        public var customer: String?
        public var markups: [Markup]

        public init(company: String? = nil, job: String, customer: String? = nil, markups: [Markup]) {
            self.company = company
            self.job = job
            self.customer = customer
            self.markups = markups
        }

        /// Higher is more specific; equal keys are refused at load, so ranks never tie on a match.
        var specificity: Int { (customer != nil ? 2 : 0) + (company != nil ? 1 : 0) }
    }

    public var defaultMarkups: [Markup]
    public var jobs: [JobEntry]
    /// The file the definitions came from, for messages.
    public var file: String?

    public init(defaultMarkups: [Markup] = [], jobs: [JobEntry] = [], file: String? = nil) {
        self.defaultMarkups = defaultMarkups
        self.jobs = jobs
        self.file = file
    }

    /// Loads and checks a markups file (every problem, not only the first).
    public static func load(_ path: String) throws(InputFailure) -> MarkupDefaults {
        let value: JSONValue
        do {
            value = try ConfigFile.load(path)
        } catch {
            throw InputFailure(file: path, [error], message: "the markups file cannot be used")
        }
        return try MarkupDefaults(json: value, file: path)
    }

    /// Reads the shape documented on the type from a parsed file.
    public init(json: JSONValue, file: String? = nil) throws(InputFailure) {
        var reader = DefaultsReader(location: SourceLocation(file: file))
        var defaults: [Markup] = []
        var jobs: [JobEntry] = []
        if let members = json.members {
            reader.rejectUnknownKeys(members, known: ["default", "jobs"], path: "")
            if let list = json["default"] { defaults = reader.markupList(list, path: "default") }
            if let list = json["jobs"] {
                if let entries = list.arrayValue {
                    for (index, entry) in entries.enumerated() {
                        if let job = reader.jobEntry(entry, path: "jobs[\(index)]") { jobs.append(job) }
                    }
                } else {
                    reader.problem(.FMT010, "jobs", "\"jobs\" must be a list of {job, company?, customer?, markups} entries")
                }
            }
        } else {
            reader.problem(.FMT010, "", "a markups file must be an object with \"default\" and/or \"jobs\"")
        }
        var seen: [String: Int] = [:]
        for (index, job) in jobs.enumerated() {
            let key = "\(job.company ?? "*")/\(job.job)/\(job.customer ?? "*")"
            if let first = seen[key] {
                reader.problem(.FMT010, "jobs[\(index)]", "jobs[\(first)] and jobs[\(index)] are both for \(key); which markups apply would be a guess")
            } else {
                seen[key] = index
            }
        }
        guard reader.problems.isEmpty else { throw InputFailure(file: file ?? "-", reader.problems, message: "the markups file cannot be used") }
        self.init(defaultMarkups: defaults, jobs: jobs, file: file)
    }

    /// The markups for a change order that carries none: its most specific `jobs` entry, else
    /// `default` (possibly empty).
    public func markups(for order: ChangeOrder) -> [Markup] {
        let company = order.contract?.company ?? order.origin.company
        let job = order.contract?.job ?? order.origin.job
        let customer = order.contract?.customer ?? order.origin.customer
        var best: JobEntry?
        for entry in jobs where entry.job == job
            && (entry.company == nil || entry.company == company)
            && (entry.customer == nil || entry.customer == customer)
        {
            if best.map({ entry.specificity > $0.specificity }) ?? true { best = entry }
        }
        let markups = best?.markups ?? defaultMarkups
        guard markups.contains(where: { $0.amount != nil && $0.amount?.currency != order.currency }) else { return markups }
        // Lump sums are read in the file's default currency; every currency we know has cents.
        return markups.map { markup in
            var copy = markup
            if let amount = copy.amount, amount.currency.minorDigits == order.currency.minorDigits {
                copy.amount = Money(minorUnits: amount.minorUnits, currency: order.currency)
            }
            return copy
        }
    }
}

/// Reads the markups file, collecting every problem with its field path.
private struct DefaultsReader {
    let location: SourceLocation
    var problems: [Diagnostic] = []

    init(location: SourceLocation) {
        self.location = location
    }

    mutating func problem(_ code: DiagnosticCode, _ path: String, _ message: String, value: String? = nil) {
        problems.append(.error(code, message, at: location.with(field: path.isEmpty ? nil : path), value: value))
    }

    mutating func rejectUnknownKeys(_ members: [JSONMember], known: Set<String>, path: String) {
        for member in members where !known.contains(member.key) {
            let full = path.isEmpty ? member.key : "\(path).\(member.key)"
            problem(.FMT010, full, "unknown key '\(member.key)' (expected one of: \(known.sorted().joined(separator: ", ")))", value: member.key)
        }
    }

    mutating func text(_ value: JSONValue?, path: String, required: Bool) -> String? {
        switch value {
        case nil, .null?:
            if required { problem(.FMT004, path, "missing \"\(lastComponent(path))\"") }
            return nil
        case .string(let text)?:
            if text.trimmingSpaces.isEmpty {
                if required { problem(.FMT004, path, "\"\(lastComponent(path))\" is blank") }
                return nil
            }
            return text
        default:
            problem(.FMT010, path, "\"\(lastComponent(path))\" must be a string")
            return nil
        }
    }

    mutating func jobEntry(_ value: JSONValue, path: String) -> MarkupDefaults.JobEntry? {
        guard let members = value.members else {
            problem(.FMT010, path, "a jobs entry must be an object {job, company?, customer?, markups}")
            return nil
        }
        rejectUnknownKeys(members, known: ["company", "job", "customer", "markups"], path: path)
        let company = text(value["company"], path: "\(path).company", required: false)
        let job = text(value["job"], path: "\(path).job", required: true)
        let customer = text(value["customer"], path: "\(path).customer", required: false)
        guard let list = value["markups"] else {
            problem(.FMT004, "\(path).markups", "missing \"markups\" (an empty list means: no markup for this job)")
            return nil
        }
        let markups = markupList(list, path: "\(path).markups")
        guard let job else { return nil }
        return MarkupDefaults.JobEntry(company: company, job: job, customer: customer, markups: markups)
    }

    mutating func markupList(_ value: JSONValue, path: String) -> [Markup] {
        guard let items = value.arrayValue else {
            problem(.FMT010, path, "\"\(lastComponent(path))\" must be a list of markups")
            return []
        }
        let before = problems.count
        var markups: [Markup] = []
        for (index, item) in items.enumerated() {
            if let markup = self.markup(item, position: index + 1, path: "\(path)[\(index)]") { markups.append(markup) }
        }
        // The same checks a document's markups get, so a bad default never reaches a change order.
        if problems.count == before {
            problems += MarkupEngine.check(markups, at: location, field: path)
        }
        return markups
    }

    mutating func markup(_ value: JSONValue, position defaultPosition: Int, path: String) -> Markup? {
        guard let members = value.members else {
            problem(.FMT010, path, "a markup must be an object {name, set, percent | amount, ...}")
            return nil
        }
        rejectUnknownKeys(members, known: ["name", "set", "percent", "amount", "position", "compound", "prime_line_item", "calculation"], path: path)
        let before = problems.count
        let name = text(value["name"], path: "\(path).name", required: true)
        var set: MarkupSet?
        if let setText = text(value["set"], path: "\(path).set", required: true) {
            set = MarkupSet(rawValue: setText.lowercased())
            if set == nil { problem(.FMT010, "\(path).set", "markup set must be \"horizontal\" or \"vertical\"", value: setText) }
        }
        var percent: Percent?
        if let raw = value["percent"], !raw.isNull {
            if let text = raw.scalarText {
                do { percent = try Percent.parse(text) } catch { problem(.FMT002, "\(path).percent", error.description, value: text) }
            } else {
                problem(.FMT002, "\(path).percent", "\"percent\" must be a number or a string such as \"3.5\"")
            }
        }
        var amount: Money?
        if let raw = value["amount"], !raw.isNull {
            if let text = raw.scalarText {
                do { amount = try Money.parseExact(text) } catch { problem(.FMT001, "\(path).amount", error.description, value: text) }
            } else {
                problem(.FMT001, "\(path).amount", "\"amount\" must be a number or a string such as \"250.00\"")
            }
        }
        var position = defaultPosition
        switch value["position"] {
        case nil, .null?: break
        case .number(let text)?:
            if let number = Int(text) { position = number } else { problem(.FMT006, "\(path).position", "\"position\" must be a whole number", value: text) }
        default: problem(.FMT006, "\(path).position", "\"position\" must be a whole number")
        }
        var compound = MarkupCompounding.none
        switch value["compound"] {
        case nil, .null?: break
        case .string(let text)?:
            switch text.lowercased() {
            case "none": compound = .none
            case "above": compound = .above
            default: problem(.FMT010, "\(path).compound", "compound must be \"none\", \"above\" or a list of markup names", value: text)
            }
        case .array(let items)?:
            var names: [String] = []
            for item in items {
                if let name = item.stringValue { names.append(name) } else { problem(.FMT010, "\(path).compound", "compound names must be strings") }
            }
            compound = .names(names)
        default:
            problem(.FMT010, "\(path).compound", "compound must be \"none\", \"above\" or a list of markup names")
        }
        let primeLineItem = text(value["prime_line_item"], path: "\(path).prime_line_item", required: false)
        let calculation = text(value["calculation"], path: "\(path).calculation", required: false)
        guard problems.count == before, let name, let set else { return nil }
        return Markup(name: name, set: set, percent: percent, amount: amount, position: position, compound: compound, primeLineItem: primeLineItem, calculation: calculation)
    }

    private func lastComponent(_ path: String) -> String {
        guard let dot = path.lastIndex(of: ".") else { return path }
        return String(path[path.index(after: dot)...])
    }
}
