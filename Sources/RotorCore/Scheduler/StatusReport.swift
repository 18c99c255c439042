import Foundation

/// `rotor status`: each app's health at a glance.
public struct AppStatus: Sendable {
    public var app: AppRecord
    public var health: Health
    public var lastRotation: RotationSummary?
    public var secretAge: Int64
    public var nextDue: Date?
    /// Enabled targets that lack the current version.
    public var pendingDeliveries: Int

    public enum Health: String, Sendable {
        case ok, pending, failed, lost, unknown, disabled
    }

    public var json: JSONValue {
        [
            "app": .string(app.name), "health": .string(health.rawValue),
            "last_outcome": .optional(lastRotation?.state.rawValue),
            "last_rotation_at": .optional((lastRotation?.finishedAt ?? lastRotation?.startedAt).map(RFC3339.format)),
            "secret_age_seconds": .int(secretAge), "next_due": .optional(nextDue.map(RFC3339.format)),
            "pending_deliveries": .int(Int64(pendingDeliveries)), "schedule": .string(app.schedule.description),
        ]
    }
}

public enum StatusReport {
    public static func build(ledger: Ledger) throws -> [AppStatus] {
        let now = ledger.clock.now
        return try ledger.read { reader in
            let credentials = try reader.currentCredentials()
            let latest = try reader.latestRotations()
            return try reader.apps().compactMap { app in
                guard let credential = credentials[app.id] else { return nil }
                let targets = try reader.targets(appID: app.id).filter(\.enabled)
                let delivered = try targets.filter {
                    try reader.delivery(targetID: $0.id, version: app.currentVersion)?.state == .succeeded
                }.count
                let pending = targets.count - delivered
                let occurrence = try reader.latestOccurrence(appID: app.id)
                var nextDue: Date?
                if app.enabled,
                    let next = Planner.nextDue(
                        app: app, secretCreatedAt: credential.createdAt, latest: occurrence, now: now)
                {
                    nextDue =
                        occurrence?.due == next.due
                        ? occurrence?.startAt
                        : Planner.startTime(due: next.due, jitterMS: 0, window: app.window, timezone: app.timezone)
                }
                let rotation = latest[app.id]
                let health: AppStatus.Health
                switch rotation?.state {
                case _ where !app.enabled: health = .disabled
                case .requesting?: health = .unknown
                case .lost?: health = .lost
                case .failed?: health = .failed
                case .rotated?, .verified?: health = .pending
                default: health = pending > 0 ? .pending : .ok
                }
                return AppStatus(
                    app: app, health: health, lastRotation: rotation,
                    secretAge: Int64(now.timeIntervalSince(credential.createdAt)), nextDue: nextDue,
                    pendingDeliveries: pending)
            }
        }
    }
}
