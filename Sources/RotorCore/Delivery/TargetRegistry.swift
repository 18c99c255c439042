import Foundation

/// Targets of apps and the alert hooks: add, list, remove, each change with
/// its audit event.
public struct TargetRegistry: Sendable {
    public let ledger: Ledger

    public init(ledger: Ledger) {
        self.ledger = ledger
    }

    /// Adds a target; one that repeats an existing target of the app (the
    /// same file, or the same command) is refused.
    @discardableResult
    public func add(app name: String, _ kind: TargetKind, headers: [String] = [], check: ConsumerCheck? = nil)
        async throws -> TargetRecord
    {
        try await ledger.commit { tx in
            try TargetRegistry.insert(app: name, kind, headers: headers, check: check, in: tx)
        }
    }

    /// An app's targets with each one's latest delivery.
    public func list(app name: String) async throws -> [TargetListing] {
        try await ledger.read { reader in try TargetListing.all(of: try AppRegistry.find(name, in: reader), in: reader)
        }
    }

    public func remove(app name: String, targetID: Int64) async throws {
        try await ledger.commit { tx in try TargetRegistry.delete(app: name, targetID: targetID, in: tx) }
    }

    @discardableResult
    /// Adds an exec hook (`command`) or, with `webhook`, a webhook alert.
    public func addAlert(
        command: String, timeout: TimeInterval, events: Set<AlertEvent> = AlertEvent.defaults,
        webhook: WebhookTarget? = nil
    ) async throws -> AlertRecord {
        try await ledger.commit { tx in
            try TargetRegistry.insertAlert(command: command, timeout: timeout, events: events, webhook: webhook, in: tx)
        }
    }

    public func alerts() async throws -> [AlertRecord] {
        try await ledger.read { try $0.alerts() }
    }

    public func removeAlert(id: Int64) async throws {
        try await ledger.commit { tx in try TargetRegistry.deleteAlert(id: id, in: tx) }
    }

    /// `rotor publish NAME`: the current version to every target again, now.
    public func publish(app name: String, using service: DeliveryService, owner: String = LeaseOwner.make())
        async throws
        -> [DeliveryService.TargetOutcome]
    {
        let app = try await ledger.read { try AppRegistry.find(name, in: $0) }
        guard
            let outcomes = try await service.deliverCurrent(
                appID: app.id, owner: owner, leaseDuration: Lease.appDuration, force: true, dueBy: nil)
        else {
            throw RotorError(
                .busy, "another process is working on \(name); try again when it has finished", exit: .failed)
        }
        return outcomes
    }
}

extension TargetRegistry {
    /// Adds a target with `target.added`, inside a write; one that repeats
    /// an existing target of the app is refused.
    @discardableResult
    static func insert(
        app name: String, _ kind: TargetKind, headers: [String], check: ConsumerCheck?, in tx: LedgerTransaction
    ) throws -> TargetRecord {
        let app = try AppRegistry.find(name, in: tx.store)
        if let twin = try tx.store.targets(appID: app.id).first(where: { $0.kind.repeats(kind) }) {
            throw RotorError(
                .alreadyExists,
                "target \(twin.id) of \(name) already does this (\(twin.summary)); change or remove it with `rotor target remove \(name) \(twin.id)`"
            )
        }
        let id = try tx.store.insertTarget(appID: app.id, kind, check: check, at: tx.now)
        if !headers.isEmpty {
            let box = try tx.keyring.seal(
                Secret(headers.joined(separator: "\n")), for: .targetHeaders(targetID: id))
            try tx.store.setTargetHeaders(id: id, box)
        }
        let target = try tx.store.target(id: id)!
        try tx.record(
            AuditDraft(.targetAdded, app: name, detail: ["target_id": .int(id), "target": .string(target.summary)]))
        return target
    }

    /// Removes a target with `target.removed`, inside a write.
    static func delete(app name: String, targetID: Int64, in tx: LedgerTransaction) throws {
        let app = try AppRegistry.find(name, in: tx.store)
        guard let target = try tx.store.target(id: targetID), target.appID == app.id else {
            throw RotorError(.notFound, "\(name) has no target \(targetID); `rotor target list \(name)` shows them")
        }
        try tx.store.deleteTarget(id: targetID)
        try tx.record(
            AuditDraft(
                .targetRemoved, app: name, detail: ["target_id": .int(targetID), "target": .string(target.summary)])
        )
    }

    /// Writes a target's new settings in place with `target.updated`, inside
    /// a write: its id, its headers and its deliveries stay, and the app's
    /// current version becomes due there again so the consumer gets it the
    /// way the target now says.
    static func update(app name: String, _ target: TargetRecord, changes: [String], in tx: LedgerTransaction) throws {
        let app = try AppRegistry.find(name, in: tx.store)
        guard let before = try tx.store.target(id: target.id), before.appID == app.id else {
            throw RotorError(.notFound, "\(name) has no target \(target.id); `rotor target list \(name)` shows them")
        }
        try tx.store.updateTarget(target)
        if var delivery = try tx.store.delivery(targetID: target.id, version: app.currentVersion),
            delivery.state == .succeeded
        {
            delivery.state = .pending
            delivery.nextAttemptAt = nil
            delivery.confirmedAt = nil
            delivery.checkError = nil
            try tx.store.saveDelivery(delivery)
        }
        try tx.record(
            AuditDraft(
                .targetUpdated, app: name,
                detail: [
                    "target_id": .int(target.id), "target": .string(target.summary),
                    "changed": .array(changes.map(JSONValue.string)),
                ]))
    }

    /// Adds an alert with `alert.added`, inside a write.
    @discardableResult
    static func insertAlert(
        command: String, timeout: TimeInterval, events: Set<AlertEvent>, webhook: WebhookTarget?,
        in tx: LedgerTransaction
    ) throws -> AlertRecord {
        let id = try tx.store.insertAlert(
            command: command, timeout: timeout, events: events, webhook: webhook, at: tx.now)
        let alert = AlertRecord(id: id, command: command, timeout: timeout, events: events, webhook: webhook)
        try tx.record(
            AuditDraft(
                .alertAdded,
                detail: [
                    "alert_id": .int(id), "command": .string(alert.command),
                    "on": .string(AlertEvent.text(events)),
                ]))
        return alert
    }

    /// Writes an alert's new settings in place with `alert.updated`, inside a write.
    static func updateAlert(_ alert: AlertRecord, changes: [String], in tx: LedgerTransaction) throws {
        try tx.store.updateAlert(alert)
        try tx.record(
            AuditDraft(
                .alertUpdated,
                detail: [
                    "alert_id": .int(alert.id), "command": .string(alert.command),
                    "on": .string(AlertEvent.text(alert.events)), "changed": .array(changes.map(JSONValue.string)),
                ]))
    }

    /// Removes an alert with `alert.removed`, inside a write.
    static func deleteAlert(id: Int64, in tx: LedgerTransaction) throws {
        guard let alert = try tx.store.alerts().first(where: { $0.id == id }) else {
            throw RotorError(.notFound, "no alert \(id); `rotor alert list` shows them")
        }
        try tx.store.deleteAlert(id: id)
        try tx.record(AuditDraft(.alertRemoved, detail: ["alert_id": .int(id), "command": .string(alert.command)]))
    }
}
