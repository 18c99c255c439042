import CoreMetrics
import Foundation

/// Delivers each group's two pairs to the group's targets when the group's
/// version is new there (a member was rotated, or the target is new), with
/// the delivery backoff after a failure; a held group is left as it is.
public struct GroupDelivery: Sendable {
    public let ledger: Ledger
    public let spawner: any ProcessSpawner
    public var backoff: RetryPolicy

    public init(ledger: Ledger, spawner: any ProcessSpawner, backoff: RetryPolicy = DeliveryService.standardBackoff) {
        self.ledger = ledger
        self.spawner = spawner
        self.backoff = backoff
    }

    /// One target's delivery of a group's version.
    public struct Outcome: Sendable {
        public var group: String
        public var target: TargetRecord
        public var version: Int
        /// nil when it was delivered.
        public var error: String?
    }

    /// Every group's targets that lack the group's version and whose retry
    /// time has come (or, with `force`, all of them again). Each group is
    /// delivered under its lease, so two processes do not run its hooks twice.
    public func deliverDue(now: Date, only name: String? = nil, force: Bool = false) async throws -> [Outcome] {
        let groups = try await ledger.read { reader in
            try reader.groups().filter { name == nil || $0.name == name }
        }
        var outcomes: [Outcome] = []
        for group in groups {
            let delivered = try await ledger.withLease(
                "group:\(group.id)", owner: LeaseOwner.make(), duration: Lease.appDuration
            ) { lease in
                try await deliver(group, lease: lease, now: now, force: force)
            }
            outcomes += delivered ?? []
        }
        return outcomes
    }

    private func deliver(_ group: GroupRecord, lease: Lease, now: Date, force: Bool) async throws -> [Outcome] {
        let work: (GroupState, [(TargetRecord, DeliveryRecord?)])? = try await ledger.read { reader in
            let state = try GroupState.read(group, in: reader)
            guard state.held == nil else { return nil }
            let due = try reader.groupTargets(groupID: group.id).compactMap {
                target -> (TargetRecord, DeliveryRecord?)? in
                let existing = try reader.groupDelivery(targetID: target.id, version: state.version)
                if !force {
                    if existing?.state == .succeeded { return nil }
                    if let next = existing?.nextAttemptAt, next > now { return nil }
                }
                return (target, existing)
            }
            return due.isEmpty ? nil : (state, due)
        }
        guard let (state, targets) = work else { return [] }
        let document = try state.document(keyring: ledger.keyring)
        var outcomes: [Outcome] = []
        for (target, existing) in targets {
            outcomes.append(try await attempt(target, of: state, document: document, existing: existing, lease: lease))
        }
        return outcomes
    }

    func attempt(
        _ target: TargetRecord, of state: GroupState, document: GroupDocument, existing: DeliveryRecord?, lease: Lease
    ) async throws -> Outcome {
        var failure: String?
        switch target.kind {
        case .file(let file):
            do {
                _ = try FileWriter.write(document.bytes(for: file), to: file)
            } catch {
                failure = error.message
            }
        case .exec(let exec):
            var environment = HookRunner.baseEnvironment
            environment["ROTOR_GROUP"] = state.group.name
            environment["ROTOR_APP"] = state.current.app.name
            environment["ROTOR_VERSION"] = String(state.version)
            if exec.passEnvironment {
                environment["ROTOR_CLIENT_ID"] = document.current.clientID
                environment["ROTOR_CLIENT_SECRET"] = document.current.clientSecret.reveal()
            }
            do {
                let result = try await spawner.run(
                    command: exec.command, stdin: document.json, environment: environment, timeout: exec.timeout,
                    mask: document.secrets)
                failure = result.failure.map { "the hook \($0)" }
            } catch {
                failure = "the hook did not start"
            }
        case .webhook:
            failure = "a group's targets are files and exec hooks"
        }
        var record =
            existing ?? DeliveryRecord(targetID: target.id, version: state.version, rotationID: nil, state: .pending)
        record.attempts += 1
        let (version, name, backoff) = (state.version, state.group.name, backoff)
        try await ledger.commit { [record, failure] tx in
            var record = record
            try tx.fence(lease)
            record.lastAttemptAt = tx.now
            record.lastError = failure
            record.state = failure == nil ? .succeeded : .failed
            record.nextAttemptAt =
                failure == nil
                ? nil
                : tx.now.addingTimeInterval(
                    backoff.delay(
                        afterAttempt: record.attempts - 1, retryAfter: nil, random: Double.random(in: 0..<1)))
            try tx.store.saveGroupDelivery(record)
            try tx.record(
                AuditDraft(
                    failure == nil ? .deliverySucceeded : .deliveryFailed,
                    outcome: failure == nil ? .success : .failure,
                    app: name,
                    detail: [
                        "target_id": .int(target.id), "version": .int(Int64(version)), "group": true,
                        "error": .optional(failure),
                    ]))
        }
        Counter(
            label: "rotor_deliveries_total",
            dimensions: [("app", name), ("outcome", failure == nil ? "succeeded" : "failed")]
        )
        .increment()
        return Outcome(group: name, target: target, version: version, error: failure)
    }
}
