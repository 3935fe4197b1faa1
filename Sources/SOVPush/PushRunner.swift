import Foundation
import SOVBatch
import SOVCore
import SOVDelivery
import SOVFrontEnd

/// What `sov-push` (and `sov-run --push`, `sov-watch --push`) is told.
public struct PushOptions: Sendable {
    public var ledger: String
    public var targets: Set<ExportTarget> = Set(ExportTarget.allCases)
    /// Print the calls that would be made; make none, change nothing.
    public var dryRun = false
    public var maxAttempts = 6
    /// Seconds from the start after which no call is retried any more.
    public var deadlineSeconds: Double?
    public var report: String?
    public var rejects: String?
    public var quiet = false
    public var configuration: DeliveryConfiguration
    /// `--company-id`: deliver only the units of this Procore company (firm).
    public var companyId: String?

    public init(ledger: String, configuration: DeliveryConfiguration) {
        self.ledger = ledger
        self.configuration = configuration
    }
}

/// What became of one unit in a push.
public struct UnitDelivery: Sendable {
    public enum Result: String, Sendable {
        case delivered
        case refused
        case failed
        /// Not tried: it waits for something before it (its contract, an earlier version, a
        /// target found unavailable in this run). Still pending.
        case waiting
        /// A dry run's plan.
        case planned
    }

    public var unit: OutboxUnit
    public var result: Result
    /// Ids the target returned (IdBook keys -> ids).
    public var ids: [String: String] = [:]
    public var message: String?
    /// A dry run: the calls, `METHOD path [sha256:digest]`.
    public var plannedCalls: [String] = []
    /// The comparable canonical document the unit carries (for the report's totals).
    public var document: JSONValue?
}

public struct PushResult: Sendable {
    public var startedAt: String
    public var endedAt = ""
    public var dryRun: Bool
    public var deliveries: [UnitDelivery] = []
    /// What stopped the push (credentials refused, ledger unusable), said once.
    public var fatal: String?
    public var status: ExitStatus = .ok

    public func count(_ result: UnitDelivery.Result) -> Int { deliveries.filter { $0.result == result }.count }
}

/// Delivers the outbox: every `pending` (and `failed`) unit of the ledger, in sequence order, to
/// its target, recording the outcome and the ids the target returned before the next unit. A
/// push killed at any point loses nothing: a unit delivered but not yet recorded is delivered
/// again, and both deliverers make a repeat harmless (Procore: sync by origin_id and
/// find-before-create; Spectrum: the change request number updates, never duplicates).
public final class PushRunner {
    public let options: PushOptions
    public var commandName = "sov-push"
    private var ledger: Ledger?
    private let transport: any HTTPTransport
    private let human: OutputSink
    private let standardOutput: OutputSink
    private lazy var procoreClient: ProcoreClient? = options.configuration.procore.map {
        ProcoreClient(settings: $0, transport: transport, policy: policy)
    }
    private lazy var procoreDeliverer: ProcoreDeliverer? = procoreClient.map { ProcoreDeliverer(client: $0) }
    private lazy var spectrumDeliverer: SpectrumDeliverer? = options.configuration.spectrum.map {
        SpectrumDeliverer(client: SpectrumDEXClient(settings: $0, transport: transport), retryPolicy: policy)
    }
    private let policy: RetryPolicy

    public init(options: PushOptions, ledger: Ledger? = nil, transport: any HTTPTransport = URLSessionTransport(), human: OutputSink = .standardError(), standardOutput: OutputSink = OutputSink()) {
        self.options = options
        self.ledger = ledger
        self.transport = transport
        self.human = human
        self.standardOutput = standardOutput
        var policy = RetryPolicy(maxAttempts: max(1, options.maxAttempts))
        if let seconds = options.deadlineSeconds { policy.deadline = policy.deadline(in: seconds) }
        self.policy = policy
    }

    public func run() -> PushResult {
        var result = PushResult(startedAt: Timestamp.now(), dryRun: options.dryRun)
        do {
            try deliverAll(&result)
        } catch let failure as LedgerError {
            stop(&result, failure.status, failure.description)
        } catch let failure as IOFailure {
            stop(&result, failure.status, failure.description)
        } catch is OutputClosed {
            stop(&result, .ioError, "standard output was closed")
        } catch {
            stop(&result, .software, "internal error: \(error)")
        }
        finish(&result)
        return result
    }

    private func stop(_ result: inout PushResult, _ status: ExitStatus, _ message: String) {
        result.fatal = message
        result.status = result.status.worst(status)
        say("\(commandName): error: \(message)", always: true)
    }

    private func openLedger() throws -> Ledger? {
        if let ledger { return ledger }
        guard Ledger.exists(options.ledger) else { return nil }
        let opened = try Ledger(path: options.ledger, readOnly: options.dryRun)
        ledger = opened
        return opened
    }

    private func deliverAll(_ result: inout PushResult) throws {
        guard let ledger = try openLedger() else {
            stop(&result, .noInput, "\(options.ledger): no such ledger; sov-run or sov-watch writes it")
            return
        }
        let units = (try ledger.units(state: .pending) + ledger.units(state: .failed))
            .filter { options.targets.contains($0.target) && (options.companyId == nil || $0.companyId == options.companyId) }
            .sorted { $0.seq < $1.seq }
        if units.isEmpty {
            say("\(commandName): nothing to deliver in \(options.ledger)")
            return
        }
        var metas: [Int64: JSONValue] = [:]
        for unit in units { metas[unit.seq] = try ledger.unitMeta(seq: unit.seq) }
        guard configured(for: units, metas: metas, &result) else { return }

        var order = DeliveryOrder()
        for unit in units {
            var delivery = UnitDelivery(unit: unit, result: .waiting)
            if let text = try ledger.unitDocument(seq: unit.seq) { delivery.document = try? JSONParser.parse(text) }
            if let reason = try waitReason(unit, ledger: ledger, unavailable: order.unavailable, blocked: order.blocked) {
                delivery.message = reason
                order.blocked[unit.originId] = reason
                result.deliveries.append(delivery)
                say("\(commandName): \(unit.fileName): waits: \(reason)")
                continue
            }
            // Many workers, one ledger: a unit is delivered only by the worker that claims it,
            // and only while it is still to deliver once claimed (another worker may have
            // delivered or refused it since the list was read). A unit another worker holds
            // blocks the later units of its document and the change orders of its contract.
            var claimed = false
            defer { if claimed { try? ledger.releaseClaim(unit.seq) } }
            if !options.dryRun {
                guard try ledger.claim(unit.seq) else {
                    let reason = "another sov-push is delivering it"
                    delivery.message = reason
                    order.blocked[unit.originId] = "another sov-push is delivering an earlier unit of it"
                    result.deliveries.append(delivery)
                    say("\(commandName): \(unit.fileName): waits: \(reason)")
                    continue
                }
                claimed = true
                let current = try ledger.unit(seq: unit.seq)
                guard let current, current.state == .pending || current.state == .failed else {
                    if current?.state == .refused { order.blocked[unit.originId] = "an earlier unit of it was refused" }
                    continue
                }
            }
            guard let body = try ledger.unitBody(seq: unit.seq), !body.isEmpty else {
                delivery.result = .refused
                delivery.message = "the ledger holds no content for this unit (written before the outbox); export the document again (sov-ledger forget \(unit.originId) --yes)"
                if !options.dryRun { try ledger.setState(unit.seq, .refused, message: delivery.message) }
                result.deliveries.append(delivery)
                continue
            }
            if options.dryRun {
                delivery.result = .planned
                delivery.plannedCalls = plan(unit, body: body, ledger: ledger)
                try standardOutput.write("\(unit.seq)\t\(unit.target.rawValue)\t\(unit.originId)\t\(unit.action.rawValue)\n")
                for call in delivery.plannedCalls { try standardOutput.write("\t\(call)\n") }
                result.deliveries.append(delivery)
                continue
            }
            let outcome = deliver(unit, body: body, meta: metas[unit.seq], ledger: ledger)
            guard try record(outcome, of: unit, &delivery, &order, ledger: ledger) else {
                result.deliveries.append(delivery)
                stop(&result, .notPermitted, delivery.message ?? "not permitted")
                return
            }
            result.deliveries.append(delivery)
        }
    }

    /// What one push learns as it goes: targets that gave up, and documents whose earlier unit
    /// did not get through (their later units wait, so a target never gets an update before its
    /// create).
    private struct DeliveryOrder {
        var unavailable: [ExportTarget: String] = [:]
        var blocked: [String: String] = [:]
    }

    /// Whether every target with something to deliver is configured; said before any call is
    /// made. Procore is needed too for the ERP loop of change orders that came as export events.
    private func configured(for units: [OutboxUnit], metas: [Int64: JSONValue], _ result: inout PushResult) -> Bool {
        let erpLoop = units.contains { $0.target == .spectrum && metas[$0.seq]?["erp"] != nil }
        for target in ExportTarget.allCases where units.contains(where: { $0.target == target }) || (target == .procore && erpLoop) {
            let missing = target == .procore ? options.configuration.procoreMissing : options.configuration.spectrumMissing
            if !missing.isEmpty && !options.dryRun {
                let count = units.filter { $0.target == target }.count
                stop(&result, .usage, "\(count) \(target.rawValue) unit\(count == 1 ? "" : "s") to deliver, but the configuration lacks \(missing.joined(separator: ", "))")
                return false
            }
        }
        return true
    }

    /// Records what became of one unit in the ledger and in `delivery`; false when the target
    /// refused our credentials, which ends the push.
    private func record(_ outcome: Outcome, of unit: OutboxUnit, _ delivery: inout UnitDelivery, _ order: inout DeliveryOrder, ledger: Ledger) throws -> Bool {
        switch outcome {
        case .delivered(let ids, let how):
            delivery.result = .delivered
            delivery.ids = ids
            try ledger.transaction {
                for (key, id) in ids.sorted(by: { $0.key < $1.key }) { try ledger.setRemoteId(id, for: key, target: unit.target, unit: unit.seq) }
                try ledger.setState(unit.seq, .delivered, message: "delivered by \(commandName): \(how)", countAttempt: true)
            }
            fileDelivered(unit)
        case .refused(let message):
            delivery.result = .refused
            delivery.message = message
            order.blocked[unit.originId] = "an earlier unit of it was refused"
            try ledger.setState(unit.seq, .refused, message: message, countAttempt: true)
            say("\(commandName): \(unit.fileName): refused by \(unit.target.rawValue): \(message)", always: true)
        case .failed(let message):
            delivery.result = .failed
            delivery.message = message
            order.unavailable[unit.target] = "\(unit.target.rawValue) gave up earlier in this run: \(message)"
            order.blocked[unit.originId] = "an earlier unit of it failed"
            try ledger.setState(unit.seq, .failed, message: message, countAttempt: true)
            say("\(commandName): \(unit.fileName): failed (stays for the next run): \(message)", always: true)
        case .notPermitted(let message):
            delivery.result = .failed
            delivery.message = message
            return false
        }
        return true
    }

    /// Why a unit cannot go yet, nil when it can.
    private func waitReason(_ unit: OutboxUnit, ledger: Ledger, unavailable: [ExportTarget: String], blocked: [String: String]) throws -> String? {
        if let reason = unavailable[unit.target] { return reason }
        if let reason = blocked[unit.originId] { return reason }
        if let contract = unit.contractOriginId {
            if let reason = blocked[contract] { return "its prime contract \(contract) did not get through in this run (\(reason))" }
            if let latest = try ledger.latestUnit(originId: contract, target: unit.target), latest.state == .refused {
                return "its prime contract \(contract) was refused by \(unit.target.rawValue) (unit \(latest.seq)); fix it, then sov-ledger retry --refused"
            }
        }
        return nil
    }

    private enum Outcome {
        /// The ids returned, and how it went (calls made, records accepted).
        case delivered([String: String], String)
        case refused(String)
        case failed(String)
        case notPermitted(String)
    }

    private func deliver(_ unit: OutboxUnit, body: [UInt8], meta: JSONValue?, ledger: Ledger) -> Outcome {
        switch unit.target {
        case .procore where unit.kind == "erp_request_detail":
            guard let client = procoreClient else { return .failed("no Procore settings") }
            guard let notice = try? JSONParser.parse(body), let detail = notice["request_detail_id"]?.scalarText else {
                return .refused("the unit is not a Request Detail notice")
            }
            let messages = notice["messages"]?.arrayValue?.compactMap(\.stringValue) ?? []
            return procoreCall("Request Detail \(detail) closed as failed") { () throws(ProcoreError) in
                try ERPLoop.fail(client, requestDetailId: detail, messages: messages)
            }
        case .procore:
            guard let deliverer = procoreDeliverer else { return .failed("no Procore settings") }
            guard let json = try? JSONParser.parse(body) else { return .refused("the unit is not valid JSON") }
            switch deliverer.deliver(json, ids: LedgerIdBook(ledger: ledger, target: .procore)) {
            case .delivered(let ids, let calls): return .delivered(ids, "\(calls) call\(calls == 1 ? "" : "s")")
            case .refused(let message, let status): return .refused(status.map { "HTTP \($0): \(message)" } ?? message)
            case .failed(let message): return .failed(message)
            case .authenticationRefused(let message):
                return .notPermitted("Procore refused the credentials: \(message); check procore.client_id, \(DeliveryConfiguration.procoreSecretVariable) (or procore.client_secret_file) and procore.company_id")
            case .missingDependency(let message):
                return .refused("[MAP002] \(message): no prime contract for the change order in the project map, the ledger or Procore")
            }
        case .spectrum:
            guard let deliverer = spectrumDeliverer else { return .failed("no Spectrum settings") }
            let erp = meta?["erp"]
            let place = Self.place(meta)
            switch deliverer.deliver(unitXML: body) {
            case .delivered(let records):
                let how = "\(records) record\(records == 1 ? "" : "s") accepted"
                guard let erp else { return .delivered([:], how) }
                // In Spectrum: now Procore's ERP loop, which is part of this unit's delivery.
                guard let client = procoreClient, let parsed = try? SpectrumUnit.parse(body), parsed.key.count == 4 else {
                    return .failed("in Spectrum (\(how)), but Procore's ERP loop cannot be closed: no Procore settings or no change request key")
                }
                let key = ERPLoop.spectrumKey(company: parsed.key[0], job: parsed.key[1], customer: parsed.key[2], number: parsed.key[3])
                return procoreCall("\(how); the Spectrum keys written back to Procore and the ERP request closed as success") { () throws(ProcoreError) in
                    try ERPLoop.succeed(client, erp: erp, changeOrderId: erp["change_order_id"]?.scalarText, key: key)
                }
            case .refused(let problems, let accepted):
                let said = problems.map { problem in
                    let field = problem.column.flatMap(ERPLoop.ourField(forSpectrumColumn:)).map { ", from the change order's \($0)" } ?? ""
                    return "record \(problem.recordIndex + 1)\(problem.column.map { " (\($0)\(field))" } ?? ""): \(problem.code): \(problem.description)"
                }.joined(separator: "; ")
                let inSpectrum = accepted.isEmpty
                    ? "no record of it is in Spectrum"
                    : "records \(accepted.map { String($0 + 1) }.joined(separator: ", ")) are in Spectrum"
                let message = "\(place)Spectrum refused \(said); \(inSpectrum)"
                if let detail = erp?["request_detail_id"]?.scalarText, let client = procoreClient {
                    // The accountant sees Spectrum's own words in Procore, without our file names.
                    let messages = problems.map { "Spectrum refused \($0.column.map { "\($0)" } ?? "the change request"): \($0.description)" }
                    let told = procoreCall("") { () throws(ProcoreError) in try ERPLoop.fail(client, requestDetailId: detail, messages: messages) }
                    switch told {
                    case .delivered: return .refused(message + "; Procore's ERP request closed as failed")
                    case .failed(let why): return .failed(message + "; Procore not told yet: \(why)")
                    case .refused(let why): return .refused(message + "; Procore refused the ERP request update: \(why)")
                    case .notPermitted(let why): return .notPermitted(why)
                    }
                }
                return .refused(message)
            case .notAuthorized(let message):
                return .notPermitted("Spectrum refused the Authorization_ID: \(message); check \(DeliveryConfiguration.spectrumSecretVariable) (or spectrum.authorization_id_file) and that the ID is active with this service")
            case .failed(let message): return .failed(message)
            }
        }
    }

    /// A Procore call of the ERP loop, its errors as outcomes.
    private func procoreCall(_ done: String, _ call: () throws(ProcoreError) -> Void) -> Outcome {
        do {
            try call()
            return .delivered([:], done)
        } catch {
            switch error {
            case .refused(let message, let status): return .refused("HTTP \(status): \(message)")
            case .authentication(let message):
                return .notPermitted("Procore refused the credentials: \(message); check procore.client_id, \(DeliveryConfiguration.procoreSecretVariable) (or procore.client_secret_file) and procore.company_id")
            case .failed(let message), .uncertain(let message): return .failed(message)
            }
        }
    }

    /// `file:line: ` of the document a unit came from, for messages.
    static func place(_ meta: JSONValue?) -> String {
        guard let file = meta?["source"]?["file"]?.stringValue else { return "" }
        return file + (meta?["source"]?["line"]?.scalarText.map { ":\($0)" } ?? "") + ": "
    }

    private func plan(_ unit: OutboxUnit, body: [UInt8], ledger: Ledger) -> [String] {
        switch unit.target {
        case .procore:
            guard let json = try? JSONParser.parse(body) else { return ["(not valid JSON)"] }
            // A plan makes no call: settings that are missing do not matter to it.
            let planner = procoreDeliverer ?? ProcoreDeliverer(client: ProcoreClient(
                settings: ProcoreSettings(companyId: "0", clientId: "-", clientSecret: "-"), transport: transport, policy: policy))
            do {
                return try planner.dryRun(json, ids: LedgerIdBook(ledger: ledger, target: .procore)).map(\.description)
            } catch {
                return ["(cannot be delivered: \(error.message))"]
            }
        case .spectrum:
            // The deliverer's own reading of the unit: the calls are one per record.
            let unit: SpectrumUnit
            do { unit = try SpectrumUnit.parse(body) } catch { return ["(cannot be delivered: \(error))"] }
            let records = unit.records.count
            return (0..<records).map { "POST /ws/\(unit.method.rawValue) (record \($0 + 1) of \(records))" }
        }
    }

    /// A delivered unit's file leaves the outbox for `delivered/` beside it, when it is there.
    private func fileDelivered(_ unit: OutboxUnit) {
        guard let folder = unit.folder else { return }
        let outbox = Outbox(folder)
        guard FileSystem.exists(outbox.folder + "/" + unit.fileName) else { return }
        do {
            try AtomicFile.makeFolder(outbox.delivered)
            try FileSystem.move(outbox.folder + "/" + unit.fileName, to: outbox.delivered + "/" + unit.fileName)
        } catch {
            say("\(commandName): warning: \(unit.fileName) was delivered but stays in \(folder): \(error.description)")
        }
    }

    private func finish(_ result: inout PushResult) {
        result.endedAt = Timestamp.now()
        if result.count(.refused) > 0 { result.status = result.status.worst(.someRejected) }
        if result.count(.failed) > 0 && result.fatal == nil { result.status = result.status.worst(.unavailable) }
        if !options.dryRun, let path = options.rejects {
            var bytes: [UInt8] = []
            for delivery in result.deliveries where delivery.result == .refused {
                JSONWriter.write(.object([
                    JSONMember("unit", .int(Int(delivery.unit.seq))), JSONMember("origin_id", .string(delivery.unit.originId)),
                    JSONMember("target", .string(delivery.unit.target.rawValue)), JSONMember("file", .string(delivery.unit.fileName)),
                    JSONMember("state", .string("refused")), JSONMember("message", .string(delivery.message ?? "")),
                    JSONMember("document", delivery.document ?? .null),
                ]), into: &bytes)
                bytes.append(0x0A)
            }
            do { try AtomicFile.write(bytes, to: path) } catch {
                say("\(commandName): error: cannot write the rejects file: \(error.description)", always: true)
                result.status = result.status.worst(error.status)
            }
        }
        if !options.dryRun, let path = options.report {
            let totals = (try? ledger.map(ContractTotals.collect)) ?? []
            do { try AtomicFile.write(Array(PushReport.html(result, ledgerPath: options.ledger, totals: totals).utf8), to: path) } catch {
                say("\(commandName): error: cannot write the report: \(error.description)", always: true)
                result.status = result.status.worst(error.status)
            }
        }
        let verb = options.dryRun ? "would deliver" : "delivered"
        var summary = "\(commandName): \(result.deliveries.count) unit\(result.deliveries.count == 1 ? "" : "s")"
        summary += options.dryRun ? " (dry run): \(result.count(.planned)) \(verb)" : ": \(result.count(.delivered)) \(verb)"
        summary += ", \(result.count(.refused)) refused, \(result.count(.failed)) failed, \(result.count(.waiting)) waiting"
        if !result.deliveries.isEmpty || result.fatal != nil { say(summary) }
        try? standardOutput.flush()
        try? human.flush()
    }

    private func say(_ line: String, always: Bool = false) {
        guard always || !options.quiet else { return }
        try? human.write(line + "\n")
        try? human.flush()
    }
}

/// The ids Procore returned earlier, as the ledger keeps them.
struct LedgerIdBook: IdBook {
    let ledger: Ledger
    let target: ExportTarget

    func id(for key: String) -> String? { try? ledger.remoteId(for: key, target: target) }
}
