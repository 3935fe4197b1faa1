import SOVCore

/// Collects Procore markup definitions into canonical markups: the ERP event repeats each
/// definition inside every line's `markup_line_items`, the REST shape lists them once.
final class MarkupCollector {
    private struct Entry {
        var id: String?
        var markup: Markup
        var positionGiven: Bool
        /// Selective compounding by Procore markup id, resolved to names once all are known.
        var selectionIds: [String]
        var path: String
    }

    private var entries: [Entry] = []
    private let problems: DocumentProblems
    private let location: SourceLocation

    init(problems: DocumentProblems, location: SourceLocation) {
        self.problems = problems
        self.location = location
    }

    /// Reads one markup definition; returns its name (what line shares refer to), nil on a problem.
    /// `primeLineItemCode` turns a Procore prime line item id into its Spectrum billing item.
    @discardableResult
    func add(_ object: ProcoreObject, primeLineItemCode: (String) -> String?) -> String? {
        let name = object.requireText("name", "markup name")
        let set = Self.markupSet(object)
        let percent = object.percent("percentage")
        if !object.has("percentage") {
            object.problem("percentage", .FMT004, "missing markup percentage (\"\(object.fieldPath("percentage"))\")")
        }
        let position = object.int("position")
        var compound = MarkupCompounding.none
        var calculation = (object.text("calculation_type") ?? object.text("calculation")).map { $0.lowercased() }
        var selectionIds: [String] = []
        if object.bool("compounds_markups_above") == true { compound = .above }
        if let details = object.object("compound") {
            switch details.text("type").map({ $0.lowercased() }) {
            case nil, "basic"?: break
            case "above"?: compound = .above
            case "selective"?:
                var names: [String] = []
                for selection in details.objects("selections") ?? [] {
                    if let named = selection.text("name") {
                        names.append(named)
                    } else if let id = selection.id("id") ?? selection.id("markup_id") {
                        selectionIds.append(id)
                    } else {
                        selection.problem("", .FMT004, "a selective compounding entry must name a markup (\"name\" or \"id\")")
                    }
                }
                compound = .names(names)
            case let other?:
                // Procore calculation types other than basic and compounding (e.g. margin) are
                // carried as they are so that sov-markup refuses them with MKP002.
                calculation = other
            }
        }
        let primeLineItem = Self.primeLineItem(object, primeLineItemCode)
        guard let name, let set, let percent else { return nil }
        let id = object.code("id")
        let markup = Markup(
            name: name, set: set, percent: percent, position: position ?? 0, compound: compound,
            primeLineItem: primeLineItem, calculation: calculation)
        if let index = entries.firstIndex(where: { id != nil ? $0.id == id : ($0.id == nil && $0.markup.name == name && $0.markup.set == set) }) {
            // A copy that gives the position the first one left out completes the definition.
            if !entries[index].positionGiven, position != nil {
                entries[index].markup.position = markup.position
                entries[index].positionGiven = true
            }
            var candidate = markup
            if position == nil { candidate.position = entries[index].markup.position }
            if entries[index].markup != candidate || entries[index].selectionIds != selectionIds {
                object.problem("", .FMT010, "markup '\(name)' is defined differently here than at \(entries[index].path)")
            }
            return name
        }
        entries.append(Entry(id: id, markup: markup, positionGiven: position != nil, selectionIds: selectionIds, path: object.path))
        return name
    }

    /// The name of the markup Procore knows by `id`, or of the markup named `name` when no id is
    /// given: how a line's markup share finds its definition in a markups list.
    func knownName(id: String?, name: String?) -> String? {
        if let id, let entry = entries.first(where: { $0.id == id }) { return entry.markup.name }
        if let name, entries.contains(where: { $0.markup.name == name && ($0.id == nil || id == nil) }) { return name }
        return nil
    }

    /// The canonical markups: positions filled in where Procore gave none (after the given ones,
    /// in order of appearance), selective compounding by id resolved to names.
    func markups() -> [Markup] {
        var result: [Markup] = []
        for set in [MarkupSet.horizontal, .vertical] {
            var next = (entries.filter { $0.markup.set == set && $0.positionGiven }.map(\.markup.position).max() ?? 0) + 1
            for entry in entries where entry.markup.set == set {
                var markup = entry.markup
                if !entry.positionGiven {
                    markup.position = next
                    next += 1
                }
                if !entry.selectionIds.isEmpty {
                    var names: [String] = []
                    if case .names(let given) = markup.compound { names = given }
                    for id in entry.selectionIds {
                        if let found = entries.first(where: { $0.id == id }) {
                            names.append(found.markup.name)
                        } else {
                            problems.add(.FMT004, "markup '\(markup.name)' compounds markup id \(id), which this change order does not define", at: location.with(field: entry.path), value: id)
                        }
                    }
                    markup.compound = .names(names)
                }
                result.append(markup)
            }
        }
        return result
    }

    static func markupSet(_ object: ProcoreObject) -> MarkupSet? {
        guard let text = object.text("markup_set") else {
            if !object.has("markup_set") { object.problem("markup_set", .FMT004, "missing \"\(object.fieldPath("markup_set"))\"") }
            return nil
        }
        switch text.lowercased() {
        case "horizontal", "change_orders_horizontal": return .horizontal
        case "vertical", "change_orders_vertical": return .vertical
        default:
            object.problem("markup_set", .FMT010, "markup set must be horizontal or vertical", value: text)
            return nil
        }
    }

    /// The billing item a vertical markup is directed to (Procore's "ERP Prime Contract Item"):
    /// an object with `origin_code` or `id`, an id, or a billing item code.
    private static func primeLineItem(_ object: ProcoreObject, _ code: (String) -> String?) -> String? {
        func resolve(_ id: String, field: String) -> String? {
            if let found = code(id) { return found }
            object.problem(field, .FMT004, "markup names prime contract line item \(id), whose Spectrum billing item is not in this document", value: id)
            return nil
        }
        if object.raw("prime_line_item")?.members != nil, let item = object.object("prime_line_item") {
            if let origin = item.code("origin_code") { return origin }
            if let id = item.id("id") { return resolve(id, field: "prime_line_item.id") }
            return nil
        }
        if let id = object.id("prime_line_item_id") { return resolve(id, field: "prime_line_item_id") }
        switch object.raw("prime_line_item") {
        case .number(let id)?: return resolve(id, field: "prime_line_item")
        case .string(let text)?: return code(text) ?? text
        default: return nil
        }
    }
}
