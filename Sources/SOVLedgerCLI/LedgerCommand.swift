import ArgumentParser
import SOVBatch
import SOVCLI
import SOVFrontEnd
import SOVCore

/// `sov-ledger`: what the ledger knows of the outbox, and the few changes a person makes to it.
public struct LedgerCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "sov-ledger",
        abstract: "Show and mend the ledger: the outbox units, their delivery states, held documents.",
        discussion: """
            Every export is a unit with a sequence number (its apply order) and a state: pending \
            (in the outbox, not delivered), delivered (with the ids the target returned), refused \
            (the target said no), failed (delivery gave up; tried again next time), superseded (a \
            newer version replaced it before delivery; its file is in outbox/superseded/). A change \
            order whose prime contract is not known yet is held (DEP001) and exported by the first \
            run that knows it.

            Exit codes: 0 done; 1 'show' or 'forget' found nothing for that origin id; 64 usage; \
            66 the ledger is missing; 74 the ledger cannot be read or written (or its PostgreSQL \
            server cannot be reached).
            """,
        subcommands: [List.self, Show.self, Forget.self, Retry.self])

    public init() {}

    /// The options every subcommand takes.
    public struct Common: ParsableArguments {
        @OptionGroup public var ledgerOption: LedgerOption

        var ledger: String { ledgerOption.ledger ?? Ledger.defaultPath }

        @Flag(name: .long, help: "JSON Lines instead of a table.")
        public var json = false

        public init() {}

        func open(readOnly: Bool) throws -> Ledger {
            guard Ledger.exists(ledger) else {
                StageDriver.printError("sov-ledger: \(ledger): no such ledger")
                throw ExitCode(ExitStatus.noInput.rawValue)
            }
            do {
                return try Ledger(path: ledger, readOnly: readOnly)
            } catch let failure as LedgerError {
                StageDriver.printError("sov-ledger: \(failure.description)")
                throw ExitCode(failure.status.rawValue)
            }
        }
    }

    public struct List: ParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "List units in sequence order, and held documents.")

        @Option(name: .long, help: ArgumentHelp("Only this state: pending, delivered, refused, failed, superseded or held.", valueName: "state"))
        public var state: String?

        @OptionGroup public var common: Common

        public init() {}

        public func validate() throws {
            if let state, state != "held", UnitState(rawValue: state) == nil {
                throw ValidationError("unknown state '\(state)'; use pending, delivered, refused, failed, superseded or held")
            }
        }

        public func run() throws {
            StageDriver.prepareProcess()
            let ledger = try common.open(readOnly: true)
            try ledgerCall(ledger.path) {
                var lines: [String] = []
                if state != "held" {
                    for unit in try ledger.units(state: state.flatMap(UnitState.init(rawValue:))) {
                        lines.append(common.json ? LedgerText.json(unit) : LedgerText.row(unit))
                    }
                }
                if state == nil || state == "held" {
                    for held in try ledger.heldDocuments() {
                        lines.append(common.json ? LedgerText.json(held) : LedgerText.row(held))
                    }
                }
                if !common.json && !lines.isEmpty { print(LedgerText.header) }
                for line in lines { print(line) }
            }
        }
    }

    public struct Show: ParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "Everything the ledger knows of one document: versions, units, files, states, ids.")

        @Argument(help: "The document's origin id (spectrum:1:24-1017:OWN100, spectrum:1:24-1017:OWN100:co:001, procore:pcco:1186921).")
        public var originId: String

        @OptionGroup public var common: Common

        public init() {}

        public func run() throws {
            StageDriver.prepareProcess()
            let ledger = try common.open(readOnly: true)
            let found: Bool = try ledgerCall(ledger.path) {
                let units = try ledger.units(originId: originId)
                let held = try ledger.heldDocuments().filter { $0.originId == originId }
                var ids: [(target: ExportTarget, key: String, id: String)] = []
                for target in ExportTarget.allCases {
                    ids += try ledger.remoteIds(under: originId, target: target).map { (target, $0.key, $0.id) }
                }
                let history = try ExportTarget.allCases.flatMap { target in try ledger.history(originId: originId, target: target) }
                if common.json {
                    for unit in units { print(LedgerText.json(unit)) }
                    for document in held { print(LedgerText.json(document)) }
                    for entry in ids {
                        print(JSONValue.object([
                            JSONMember("kind", .string("remote_id")), JSONMember("target", .string(entry.target.rawValue)),
                            JSONMember("key", .string(entry.key)), JSONMember("id", .string(entry.id)),
                        ]).text)
                    }
                } else {
                    print(originId)
                    for version in history {
                        print("  version \(version.version): \(version.action) in run \(version.runId)"
                            + (version.changes.isEmpty ? "" : " (" + version.changes.joined(separator: "; ") + ")"))
                    }
                    if !units.isEmpty { print("  " + LedgerText.header) }
                    for unit in units { print("  " + LedgerText.row(unit)) }
                    for document in held { print("  held since \(document.heldAt) (run \(document.runId)): \(document.reason)") }
                    for entry in ids { print("  \(entry.target.rawValue) id \(entry.id) for \(entry.key)") }
                }
                return !(units.isEmpty && held.isEmpty && history.isEmpty)
            }
            if !found {
                StageDriver.printError("sov-ledger: \(ledger.path): nothing recorded for \(originId)")
                throw ExitCode(ExitStatus.someRejected.rawValue)
            }
        }
    }

    public struct Forget: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Forget a document, so that the next run exports it again as new.",
            discussion: "Its unit files stay where they are. Needs --yes: a document forgotten after it was delivered is created again at its target.")

        @Argument(help: "The document's origin id.")
        public var originId: String

        @Flag(name: .long, help: "Really forget it.")
        public var yes = false

        @OptionGroup public var common: Common

        public init() {}

        public func run() throws {
            StageDriver.prepareProcess()
            guard yes else {
                StageDriver.printError("sov-ledger: forget \(originId): add --yes; the next run then exports it as new (a create, even if its target has it already)")
                throw ExitCode(ExitStatus.usage.rawValue)
            }
            let ledger = try common.open(readOnly: false)
            let known = try ledgerCall(ledger.path) { try ledger.forget(originId: originId) }
            if !known {
                StageDriver.printError("sov-ledger: \(ledger.path): nothing recorded for \(originId)")
                throw ExitCode(ExitStatus.someRejected.rawValue)
            }
            print("forgot \(originId)")
        }
    }

    public struct Retry: ParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "Put failed units back to pending (and refused ones with --refused), for the next push.")

        @Flag(name: .long, help: "Refused units too (after fixing what the target refused).")
        public var refused = false

        @OptionGroup public var common: Common

        public init() {}

        public func run() throws {
            StageDriver.prepareProcess()
            let ledger = try common.open(readOnly: false)
            let count = try ledgerCall(ledger.path) { try ledger.retry(includingRefused: refused) }
            print("\(count) unit\(count == 1 ? "" : "s") back to pending")
        }
    }
}

/// A ledger failure midway: said on stderr, with its exit status.
private func ledgerCall<T>(_ path: String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let failure as LedgerError {
        StageDriver.printError("sov-ledger: \(failure.description)")
        throw ExitCode(failure.status.rawValue)
    }
}

/// How units and held documents are shown: a table row, or one JSON object.
enum LedgerText {
    static let header = "seq\tstate\taction\ttarget\torigin_id\tfile\tsince\tmessage"

    static func row(_ unit: OutboxUnit) -> String {
        [String(unit.seq), unit.state.rawValue, unit.action.rawValue, unit.target.rawValue, unit.originId, unit.fileName, unit.stateAt, unit.message ?? ""]
            .joined(separator: "\t")
    }

    static func row(_ held: HeldDocument) -> String {
        ["-", "held", "-", held.target.rawValue, held.originId, "-", held.heldAt, "DEP001: " + held.reason].joined(separator: "\t")
    }

    static func json(_ unit: OutboxUnit) -> String {
        var members: [JSONMember] = [
            JSONMember("kind", .string("unit")), JSONMember("seq", .int(Int(unit.seq))), JSONMember("state", .string(unit.state.rawValue)),
            JSONMember("action", .string(unit.action.rawValue)), JSONMember("target", .string(unit.target.rawValue)),
            JSONMember("origin_id", .string(unit.originId)), JSONMember("document_kind", .string(unit.kind)),
            JSONMember("version", .int(unit.version)), JSONMember("file", .string(unit.fileName)),
            JSONMember("folder", unit.folder.map(JSONValue.string) ?? .null), JSONMember("run_id", .int(Int(unit.runId))),
            JSONMember("created_at", .string(unit.createdAt)), JSONMember("state_at", .string(unit.stateAt)),
            JSONMember("attempts", .int(unit.attempts)), JSONMember("message", unit.message.map(JSONValue.string) ?? .null),
        ]
        members.append(JSONMember("base_seq", unit.baseSeq.map { .int(Int($0)) } ?? .null))
        members.append(JSONMember("superseded_by", unit.supersededBy.map { .int(Int($0)) } ?? .null))
        members.append(JSONMember("contract_origin_id", unit.contractOriginId.map(JSONValue.string) ?? .null))
        members.append(JSONMember("company_id", unit.companyId.map(JSONValue.string) ?? .null))
        return JSONValue.object(members).text
    }

    static func json(_ held: HeldDocument) -> String {
        JSONValue.object([
            JSONMember("kind", .string("held")), JSONMember("state", .string("held")), JSONMember("code", .string("DEP001")),
            JSONMember("target", .string(held.target.rawValue)), JSONMember("origin_id", .string(held.originId)),
            JSONMember("document_kind", .string(held.kind)), JSONMember("reason", .string(held.reason)),
            JSONMember("run_id", .int(Int(held.runId))), JSONMember("held_at", .string(held.heldAt)),
        ]).text
    }
}
