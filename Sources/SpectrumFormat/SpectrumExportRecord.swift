import SOVCore

/// One field of a record to write: Spectrum's field name and the text to put in it.
public struct SpectrumExportField: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// One Data Exchange record to write (`ARChangeRequest` or `ARChangeOrder`): the element, which
/// is also the web method, and its fields in the order they are written.
public struct SpectrumExportRecord: Sendable, Hashable {
    public var element: String
    public var fields: [SpectrumExportField]

    public init(element: String, fields: [SpectrumExportField]) {
        self.element = element
        self.fields = fields
    }

    /// The value of the first field named `name`.
    public subscript(name: String) -> String? {
        fields.first { $0.name == name }?.value
    }
}

/// What the writer made of one change order: every record, all sharing one GUID.
public struct SpectrumChangeOrderExport: Sendable, Hashable {
    public var layout: SpectrumExportLayout
    public var key: ContractKey
    /// Change_Request_Number / Change_Order_Number as written (prefix included).
    public var number: String
    public var guid: String
    public var records: [SpectrumExportRecord]
    /// Problems that did not stop the export (a cut description, a revenue-only change request).
    public var warnings: [Diagnostic]

    public init(layout: SpectrumExportLayout, key: ContractKey, number: String, guid: String, records: [SpectrumExportRecord], warnings: [Diagnostic]) {
        self.layout = layout
        self.key = key
        self.number = number
        self.guid = guid
        self.records = records
        self.warnings = warnings
    }
}

public enum SpectrumExportResult: Sendable, Hashable {
    case exported(SpectrumChangeOrderExport)
    /// Every problem found, errors and warnings alike; nothing of the change order is written.
    case rejected([Diagnostic])

    public var export: SpectrumChangeOrderExport? {
        if case .exported(let export) = self { return export }
        return nil
    }

    public var diagnostics: [Diagnostic] {
        switch self {
        case .exported(let export): export.warnings
        case .rejected(let diagnostics): diagnostics
        }
    }
}
