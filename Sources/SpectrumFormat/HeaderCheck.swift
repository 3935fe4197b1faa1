import SOVCore

/// A CSV export's header, checked once before its rows (issue 16): a column the layout needs
/// that the header lacks would otherwise reject every row with the same "required field
/// missing", 200,000 times on a real export. The file fails as a whole (65) with one message:
/// the missing column, the closest header present, and the `--profile` line that maps it.
enum HeaderCheck {
    /// The columns each layout cannot do without (LayoutMapping's `required: true` fields, the
    /// contract key included); the layout's own marks (Billing_Item...) are there by recognition.
    static func required(_ layout: SpectrumLayout) -> [SpectrumField] {
        switch layout {
        case .jobHeader, .sovLine, .flatContract: [.companyCode, .jobNumber, .customerCode, .originalContract]
        case .changeOrder: [.companyCode, .jobNumber, .customerCode, .revenue]
        }
    }

    static func layoutName(_ layout: SpectrumLayout) -> String {
        switch layout {
        case .jobHeader: "a job header export"
        case .sovLine: "an SOV line export"
        case .flatContract: "a flat contract export"
        case .changeOrder: "an AR change order export"
        }
    }

    /// Why the header cannot serve, or nil when it can.
    static func problem(_ names: [String], profile: SpectrumProfile, file: String, line: Int) -> Diagnostic? {
        let binding = LayoutBinding(names: names, profile: profile)
        // Data Exchange error rows carry their own columns; they are judged row by row.
        if binding.has(.errorCode) { return nil }
        // Header names no field claims: where a misspelt column hides.
        let unclaimed = names.enumerated().filter { profile.field(named: $0.element) == nil && !trimmedSpaces($0.element).isEmpty }
        let location = SourceLocation(file: file, line: line)
        guard let layout = binding.layout else {
            // No layout at all: a misspelt distinguishing column is the likely cause.
            for field in [SpectrumField.jobNumber, .billingItem, .changeOrderNumber] where !binding.has(field) {
                if let close = closest(to: field, in: unclaimed) {
                    return .error(.FMT004, "the header matches no Spectrum layout and has no column \(field.name); the closest header is '\(close.name)' (column \(close.index + 1)): if that is it, map it with a --profile whose [fields] table says \"\(close.name)\" = \"\(field.name)\"", at: location.with(field: field.name))
                }
            }
            let shown = names.prefix(12).joined(separator: ", ") + (names.count > 12 ? ", ..." : "")
            return .error(.FMT007, "the header (\(shown)) matches no Spectrum layout: a job header needs Job_Number with Job_Description, Contract_Number or Original_Contract; an SOV line Billing_Item; a change order Change_Order_Number. A --profile [fields] table maps a site's own column names" + delimiterHint(names), at: location)
        }
        let missing = required(layout).filter { !binding.has($0) }
        guard let first = missing.first else { return nil }
        let all = missing.map(\.name).joined(separator: ", ")
        var message = "the header has no column \(first.name)" + (missing.count > 1 ? " (missing: \(all))" : "")
            + ", which \(layoutName(layout)) needs on every row; the file is not read"
        if let close = closest(to: first, in: unclaimed) {
            message += "; the closest header is '\(close.name)' (column \(close.index + 1)): if that is it, map it with a --profile whose [fields] table says \"\(close.name)\" = \"\(first.name)\""
        } else {
            message += "; if the export names it otherwise, map it with a --profile whose [fields] table says \"Their_Name\" = \"\(first.name)\""
        }
        return .error(.FMT004, message, at: location.with(field: first.name))
    }

    /// The unclaimed header most like `field`'s name (case, spaces and `_` ignored), when it is
    /// close enough to be a misspelling.
    static func closest(to field: SpectrumField, in candidates: [(offset: Int, element: String)]) -> (name: String, index: Int)? {
        func normal(_ text: String) -> String { trimmedSpaces(text).lowercased().filter { $0 != "_" && $0 != " " } }
        let target = normal(field.name)
        var best: (name: String, index: Int, distance: Int)?
        for candidate in candidates {
            let name = normal(candidate.element)
            guard !name.isEmpty, name.count < 4 * target.count else { continue }
            let distance = editDistance(name, target)
            if distance < (best?.distance ?? .max) { best = (candidate.element, candidate.offset, distance) }
        }
        guard let best, best.distance <= max(2, target.count / 3) else { return nil }
        return (best.name, best.index)
    }

    static func delimiterHint(_ names: [String]) -> String {
        guard names.count == 1, let name = names.first else { return "" }
        for (character, option) in [("\t", "tab"), (";", "';'"), ("|", "'|'")] where name.contains(character) {
            return "; the header is one field holding \(option == "tab" ? "tabs" : option + " characters"): give --delimiter \(option)"
        }
        return ""
    }
}
