import Foundation

/// `rotor group add|list|show|remove` and a group's targets, each change
/// with its audit event.
public struct GroupRegistry: Sendable {
    public let ledger: Ledger

    public init(ledger: Ledger) {
        self.ledger = ledger
    }

    /// What `group add` registers.
    public struct Spec: Sendable {
        public var name: String
        public var apps: [String]
        public var schedule: Schedule
        public var jitter: Int64
        public var window: TimeWindow?
        public var timezone: String

        public init(
            name: String, apps: [String], schedule: Schedule, jitter: Int64 = 0, window: TimeWindow? = nil,
            timezone: String = "UTC"
        ) {
            self.name = name
            self.apps = apps
            self.schedule = schedule
            self.jitter = jitter
            self.window = window
            self.timezone = timezone
        }
    }

    @discardableResult
    public func add(_ spec: Spec) async throws -> GroupState {
        guard spec.apps.count == 2, spec.apps[0] != spec.apps[1] else {
            throw RotorError(.invalidInput, "a group has two different apps: --apps A,B")
        }
        guard spec.schedule != .none else {
            throw RotorError(.invalidInput, "a group rotates on a schedule: give --every or --cron")
        }
        return try await ledger.commit { tx in
            if try tx.store.app(named: spec.name) != nil || tx.store.groups().contains(where: { $0.name == spec.name })
            {
                throw RotorError(
                    .alreadyExists, "\(spec.name) is already the name of an app or a group; a name is one or the other")
            }
            let inGroups = Set(try tx.store.groups().flatMap(\.members))
            var members: [Int64] = []
            for name in spec.apps {
                let app = try AppRegistry.find(name, in: tx.store)
                if inGroups.contains(app.id) {
                    throw RotorError(
                        .alreadyExists, "app \(name) is already in a group; an app is in one group at most")
                }
                members.append(app.id)
            }
            let id = try tx.store.insertGroup(
                GroupRecord(
                    name: spec.name, members: members, schedule: spec.schedule, jitter: spec.jitter,
                    window: spec.window, timezone: spec.timezone, createdAt: tx.now))
            guard let group = try tx.store.groups().first(where: { $0.id == id }) else {
                throw RotorError(.io, "the new group vanished")
            }
            let state = try GroupState.read(group, in: tx.store)
            try tx.record(
                AuditDraft(
                    .groupAdded, app: spec.name,
                    detail: [
                        "apps": .array(spec.apps.map(JSONValue.string)), "schedule": .string(spec.schedule.description),
                        "current": .string(state.current.app.name),
                    ]))
            return state
        }
    }

    /// Every group as it stands, by name.
    public func list() async throws -> [GroupState] {
        try await ledger.read { reader in try reader.groups().map { try GroupState.read($0, in: reader) } }
    }

    /// One group, its targets with their deliveries of the group's version, and its next occurrence.
    public func show(_ name: String) async throws -> GroupDetail {
        let now = ledger.clock.now
        return try await ledger.read { reader in
            let group = try GroupRegistry.find(name, in: reader)
            let state = try GroupState.read(group, in: reader)
            let targets = try reader.groupTargets(groupID: group.id).map { target in
                (target, try reader.groupDelivery(targetID: target.id, version: state.version))
            }
            let next = state.nextOccurrence(
                active: try reader.activeOccurrences()[state.standby.app.id] ?? [], now: now)
            return GroupDetail(state: state, targets: targets, next: next?.eligibleAt)
        }
    }

    public func remove(_ name: String) async throws {
        try await ledger.commit { tx in
            let group = try GroupRegistry.find(name, in: tx.store)
            try tx.store.deleteGroup(id: group.id)
            try tx.record(
                AuditDraft(.groupRemoved, app: name, detail: ["members": .array(group.members.map { .int($0) })]))
        }
    }

    /// Adds a file target or an exec hook to a group.
    @discardableResult
    public func addTarget(group name: String, _ kind: TargetKind) async throws -> TargetRecord {
        if case .webhook = kind {
            throw RotorError(.invalidInput, "a group's targets are files (--file) and exec hooks (--exec)")
        }
        if case .file(let file) = kind, let template = file.template {
            try TargetTemplate.check(template, variables: TargetTemplate.groupVariables)
        }
        return try await ledger.commit { tx in
            let group = try GroupRegistry.find(name, in: tx.store)
            if let twin = try tx.store.groupTargets(groupID: group.id).first(where: { $0.kind.repeats(kind) }) {
                throw RotorError(
                    .alreadyExists, "target \(twin.id) of group \(name) already does this (\(twin.summary))")
            }
            let id = try tx.store.insertGroupTarget(groupID: group.id, kind, at: tx.now)
            guard let target = try tx.store.groupTargets(groupID: group.id).first(where: { $0.id == id }) else {
                throw RotorError(.io, "the new target vanished")
            }
            try tx.record(
                AuditDraft(
                    .targetAdded, app: name,
                    detail: ["target_id": .int(id), "target": .string(target.summary), "group": true]))
            return target
        }
    }

    public func removeTarget(group name: String, targetID: Int64) async throws {
        try await ledger.commit { tx in
            let group = try GroupRegistry.find(name, in: tx.store)
            guard let target = try tx.store.groupTargets(groupID: group.id).first(where: { $0.id == targetID }) else {
                throw RotorError(
                    .notFound, "group \(name) has no target \(targetID); `rotor group show \(name)` lists them")
            }
            try tx.store.deleteGroupTarget(id: targetID)
            try tx.record(
                AuditDraft(
                    .targetRemoved, app: name,
                    detail: ["target_id": .int(targetID), "target": .string(target.summary), "group": true]))
        }
    }

    /// Whether `name` is a group's (a name is an app's or a group's).
    public func isGroup(_ name: String) async throws -> Bool {
        try await ledger.read { try $0.groups().contains { $0.name == name } }
    }

    static func find(_ name: String, in reader: any StoreReader) throws -> GroupRecord {
        guard let group = try reader.groups().first(where: { $0.name == name }) else {
            throw RotorError(.notFound, "no group named \(UserText.shown(name)); `rotor group list` shows them")
        }
        return group
    }
}

/// `rotor group show`.
public struct GroupDetail: Sendable {
    public var state: GroupState
    public var targets: [(TargetRecord, DeliveryRecord?)]
    /// When the standby member is rotated next: the pair delivered as standby stops working then, so a
    /// consumer must have re-read the group's target since the last rotation by that time.
    public var next: Date?
}
