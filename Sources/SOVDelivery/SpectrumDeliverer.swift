import Foundation

/// One problem Spectrum reported for a record of a unit (`code` is Spectrum's error_code: I or M;
/// `Client` for a SOAP client fault; `UNIT` for a unit SOVBridge will not send).
public typealias SpectrumDeliveryProblem = (recordIndex: Int, code: String, column: String?, description: String)

/// How delivering one unit ended. Maps onto the ledger's unit states (docs/ARCHITECTURE.md, "Unit states").
public enum SpectrumDeliveryOutcome: Sendable, Equatable, CustomStringConvertible {
    /// Every record was accepted.
    case delivered(records: Int)
    /// Spectrum rejected a record (I/M). Records are sent in order and sending stops at the first
    /// rejected one: `acceptedRecords` are exactly the indices Spectrum took before it (they stay
    /// in Spectrum; a corrected unit with the same number updates them).
    case refused(problems: [SpectrumDeliveryProblem], acceptedRecords: [Int])
    /// A/E (or HTTP 401/403): the Authorization_ID setting is wrong. The caller exits 77.
    case notAuthorized(String)
    /// Transient trouble outlasted the retry policy (SOAP Server faults, 5xx, timeouts, lost
    /// answers) or the endpoint is unusable. Nothing is lost: a later run sends the unit again.
    case failed(String)

    public static func == (lhs: SpectrumDeliveryOutcome, rhs: SpectrumDeliveryOutcome) -> Bool {
        switch (lhs, rhs) {
        case (.delivered(let a), .delivered(let b)): a == b
        case (.refused(let a, let x), .refused(let b, let y)):
            x == y && a.count == b.count
                && zip(a, b).allSatisfy { $0.recordIndex == $1.recordIndex && $0.code == $1.code && $0.column == $1.column && $0.description == $1.description }
        case (.notAuthorized(let a), .notAuthorized(let b)): a == b
        case (.failed(let a), .failed(let b)): a == b
        default: false
        }
    }

    public var description: String {
        switch self {
        case .delivered(let records): "delivered (\(records) records)"
        case .refused(let problems, let accepted):
            "refused: "
                + problems.map { "record \($0.recordIndex) [\($0.code)]\($0.column.map { " \($0)" } ?? ""): \($0.description)" }
                .joined(separator: "; ")
                + " (records accepted before: \(accepted.isEmpty ? "none" : accepted.map(String.init).joined(separator: ", ")))"
        case .notAuthorized(let text): "not authorized: \(text)"
        case .failed(let text): "failed: \(text)"
        }
    }
}

/// Delivers Spectrum import units over Data Exchange: fills the Authorization_ID, sends one call
/// per record in order with one GUID per unit (a fresh one after "Time out has occurred"), and
/// retries transient failures through the shared `RetryPolicy`.
///
/// Never a second change request: Data Exchange has no Get for change requests/orders
/// (DEX-TRANSPORT.md §4.3), so there is no find-before-create. Instead every record carries the
/// unit's fixed Company + Job + Customer + number (a unit with a blank one is never sent), and
/// ARChangeRequest/ARChangeOrder update the record with that key (§3, §4), the first matching
/// line for a repeated phase/cost type or billing item. So resending a record after a lost
/// answer, a fault or a later run updates the same change request and the same line.
public struct SpectrumDeliverer: Sendable {
    public let client: SpectrumDEXClient
    public var retryPolicy: RetryPolicy
    /// New GUIDs allowed per unit after "Time out has occurred" before giving up.
    public var maxGUIDRenewals: Int
    let newGUID: @Sendable () -> String

    public init(
        client: SpectrumDEXClient, retryPolicy: RetryPolicy, maxGUIDRenewals: Int = 3,
        newGUID: @escaping @Sendable () -> String = { UUID().uuidString.lowercased() }
    ) {
        self.client = client
        self.retryPolicy = retryPolicy
        self.maxGUIDRenewals = maxGUIDRenewals
        self.newGUID = newGUID
    }

    /// Reads and delivers a unit file's bytes. A unit that cannot be sent safely (malformed, blank
    /// key, mixed keys, unknown fields) is refused with code `UNIT` and nothing is sent.
    public func deliver(unitXML: [UInt8]) -> SpectrumDeliveryOutcome {
        do {
            return deliver(try SpectrumUnit.parse(unitXML))
        } catch {
            switch error {
            case .badRecord(let index, let field, let message):
                return .refused(problems: [(index, "UNIT", field, "not sent: \(message)")], acceptedRecords: [])
            default:
                return .refused(problems: [(0, "UNIT", nil, "not sent: \(error.description)")], acceptedRecords: [])
            }
        }
    }

    public func deliver(_ unit: SpectrumUnit) -> SpectrumDeliveryOutcome {
        let redact = client.settings.authorizationID.redact
        var guid = unit.guid.map { $0.count <= 36 ? $0 : newGUID() } ?? newGUID()
        var renewals = 0
        var accepted: [Int] = []
        for (index, record) in unit.records.enumerated() {
            var sent = false
            while !sent {
                let step = send(unit.method, guid: guid, record: record)
                switch step {
                case .failure(let exhausted):
                    return .failed(redact("record \(index) of \(describe(unit)): \(exhausted.description)"))
                case .success(.failure(let error)):
                    if error.isAuthorization { return .notAuthorized(redact(error.description)) }
                    return .failed(redact("record \(index) of \(describe(unit)): \(error.description)"))
                case .success(.success(let answer)):
                    switch answer {
                    case .accepted:
                        accepted.append(index)
                        sent = true
                    case .guidTimedOut(let row):
                        // §1.1: the combination expired; nothing was done, so the same record
                        // goes again under a new GUID (which the rest of the unit then uses).
                        renewals += 1
                        guard renewals <= maxGUIDRenewals else {
                            return .failed("record \(index) of \(describe(unit)): \(row.description) after \(maxGUIDRenewals) new GUIDs")
                        }
                        guid = newGUID()
                    case .notAuthorized(let rows):
                        return .notAuthorized(rows.map { "\($0.description)\($0.column.map { " (\($0))" } ?? "")" }.joined(separator: "; "))
                    case .rejected(let rows):
                        return .refused(problems: rows.map { (index, $0.code, $0.column, $0.description) }, acceptedRecords: accepted)
                    case .fault(let code, let text, _):
                        // Server faults were retried inside `send`; a Client fault says this
                        // request is not acceptable as written, which repeating cannot change.
                        return .refused(problems: [(index, code, nil, text)], acceptedRecords: accepted)
                    }
                }
            }
        }
        return .delivered(records: unit.records.count)
    }

    /// One record through the retry policy. Outer failure: retries exhausted. Inner failure: an
    /// error repeating cannot fix. Repeating is safe because the record's key is fixed.
    private func send(_ method: SpectrumDEXMethod, guid: String, record: SpectrumDEXRecord)
        -> Result<Result<SpectrumDEXAnswer, SpectrumDEXCallError>, RetryExhausted>
    {
        retryPolicy.run { _ in
            do throws(SpectrumDEXCallError) {
                let answer = try client.send(method: method, guid: guid, record: record)
                if case .fault(let code, let text, server: true) = answer {
                    return .retry(reason: "SOAP fault \(code): \(text)", serverWait: nil)
                }
                return .finished(.success(answer))
            } catch {
                guard error.isRetryable else { return .finished(.failure(error)) }
                var wait: Double?
                if case .httpStatus(_, _, let headers) = error { wait = retryPolicy.serverWait(headers) }
                return .retry(reason: error.description, serverWait: wait)
            }
        }
    }

    private func describe(_ unit: SpectrumUnit) -> String {
        "\(unit.method.rawValue) \(unit.key.joined(separator: "/"))"
    }
}
