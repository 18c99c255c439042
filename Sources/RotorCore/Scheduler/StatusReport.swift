import Foundation

/// `rotor status`: each app's health at a glance, with the reason and its fix.
public struct AppStatus: Sendable {
    public var app: AppRecord
    public var health: Health
    /// One line: why the app is not `ok`, naming the fix when there is one.
    public var reason: String?
    public var lastRotation: RotationSummary?
    public var secretAge: Int64
    /// When the current pair was stored (a rotation, `app add` or `app set`).
    public var secretCreatedAt: Date
    /// When the next scheduled rotation may start (``Planner/next(app:secretCreatedAt:active:now:)``).
    public var nextDue: Date?
    /// Enabled targets that lack the current version.
    public var pendingDeliveries: Int
    /// The group the app is in, and its role there (`current`, `standby`): its own schedule is ignored.
    public var group: (name: String, role: String)?
    /// The node whose process holds the app's lease now (it is working on the app).
    public var heldBy: String?

    public enum Health: String, Sendable, CaseIterable {
        case ok, due, rotating, retrying
        case pendingDelivery = "pending-delivery"
        case failed
        case needsAction = "needs-action"
        case disabled

        /// The exit status of `rotor status` when this is the worst health:
        /// 0 for ok, due, rotating, disabled; 3 while Rotor keeps retrying; 4 when a person must act.
        public var exitStatus: ExitStatus {
            switch self {
            case .ok, .due, .rotating, .disabled: .success
            case .retrying, .pendingDelivery, .failed: .pending
            case .needsAction: .operatorAction
            }
        }
    }

    public var json: JSONValue {
        [
            "app": .string(app.name), "health": .string(health.rawValue), "reason": .optional(reason),
            "last_outcome": .optional(lastRotation?.state.rawValue),
            "last_rotation_at": .optional((lastRotation?.finishedAt ?? lastRotation?.startedAt).map(RFC3339.format)),
            "secret_age_seconds": .int(secretAge), "next_due": .optional(nextDue.map(RFC3339.format)),
            "pending_deliveries": .int(Int64(pendingDeliveries)),
            "schedule": .string(group.map { "group \($0.name) (\($0.role))" } ?? app.schedule.description),
            "group": .optional(group?.name), "held_by": .optional(heldBy),
        ]
    }
}

public enum StatusReport {
    /// Failed attempts of a delivery after which it counts as `failed` (the alert budget).
    public static let deliveryBudget = 5

    public static func build(ledger: Ledger) async throws -> [AppStatus] {
        let now = ledger.clock.now
        return try await ledger.read { reader in
            let latest = try reader.latestRotations()
            let active = try reader.activeOccurrences()
            let open = Dictionary(try reader.openRotations().map { ($0.appID, $0) }, uniquingKeysWith: { a, _ in a })
            let unsettled = try reader.unsettledTargets()
            let holders = try NodeStatus.read(reader, now: now).appHolders
            var statuses: [AppStatus] = []
            // Members of a group are rotated on the group's schedule: the standby one next.
            var members: [Int64: (group: String, role: String, next: OccurrenceRecord?)] = [:]
            for group in try reader.groups() {
                let state = try GroupState.read(group, in: reader)
                members[state.current.app.id] = (group.name, "current", nil)
                members[state.standby.app.id] = (
                    group.name, "standby",
                    state.nextOccurrence(active: active[state.standby.app.id] ?? [], now: now)
                )
            }
            try reader.forEachApp(schedulable: false) { app, secretCreatedAt in
                let targets = unsettled[app.id] ?? []
                let member = members[app.id]
                let next =
                    member != nil
                    ? member?.next
                    : Planner.next(app: app, secretCreatedAt: secretCreatedAt, active: active[app.id] ?? [], now: now)
                var status = AppStatus(
                    app: app, health: .ok, reason: nil, lastRotation: latest[app.id],
                    secretAge: Int64(now.timeIntervalSince(secretCreatedAt)), secretCreatedAt: secretCreatedAt,
                    nextDue: next?.eligibleAt,
                    pendingDeliveries: targets.filter { $0.1?.state != .succeeded }.count,
                    group: member.map { ($0.group, $0.role) }, heldBy: holders[app.id])
                (status.health, status.reason) = health(
                    app, open: open[app.id], last: latest[app.id], targets: targets, next: next, now: now)
                statuses.append(status)
            }
            return statuses
        }
    }

    /// The health of one app, worst first, and its reason.
    static func health(
        _ app: AppRecord, open: RotationRecord?, last: RotationSummary?,
        targets: [(targetID: Int64, delivery: DeliveryRecord?)],
        next: OccurrenceRecord?, now: Date
    ) -> (AppStatus.Health, String?) {
        if !app.enabled { return (.disabled, nil) }
        if let attention = app.attention { return (.needsAction, attention.reason) }
        if let last, last.state == .lost {
            return (
                .needsAction,
                "rotation \(last.id) is lost: ask the vendor's support for a new pair, then run `rotor app set \(app.name) --client-id ID --client-secret-stdin`"
            )
        }
        if let open {
            let error = open.error.map { ": \($0)" } ?? ""
            let when = open.nextAttemptAt.map { ", \(nextAttempt($0, from: now))" } ?? ""
            switch open.state {
            case .failed:
                return (
                    .failed,
                    "rotation \(open.id): the new pair is stored but not verified\(error) (attempt \(open.attempts)\(when)); `rotor run` keeps retrying"
                )
            case .requesting where open.attempts > 0 && open.error != RotationEngine.inFlightNote:
                return (.retrying, "rotation \(open.id) is unresolved\(error) (attempt \(open.attempts)\(when))")
            default:
                break  // rotating; a delivery that keeps failing shows below
            }
        }
        let failing = targets.filter { $0.1?.state == .failed }
        if let (target, delivery) = failing.max(by: { ($0.1?.attempts ?? 0) < ($1.1?.attempts ?? 0) }),
            let delivery
        {
            let when = delivery.nextAttemptAt.map { ", \(nextAttempt($0, from: now))" } ?? ""
            let reason =
                "target \(target): \(delivery.lastError ?? "failed") (attempt \(delivery.attempts)\(when)); see `rotor target list \(app.name)`"
            return (delivery.attempts >= deliveryBudget ? .failed : .retrying, reason)
        }
        if let (target, delivery) = targets.first(where: { $0.1?.state == .succeeded && $0.1?.checkError != nil }),
            let delivery, let checkError = delivery.checkError
        {
            return (
                .failed,
                "target \(target) received version \(delivery.version), but its consumer check \(checkError); fix the consumer, then `rotor publish \(app.name)` checks again"
            )
        }
        if let open {
            return (.rotating, "rotation \(open.id) is \(open.state.rawValue)")
        }
        let undelivered = targets.filter { $0.1?.state != .succeeded && $0.1?.state != .superseded }
        if let (target, _) = undelivered.first {
            return (
                .pendingDelivery,
                "target \(target) lacks version \(app.currentVersion): the next pass of `rotor run` delivers it, or now with `rotor publish \(app.name)`"
            )
        }
        if let next, next.attempts > 0, next.state == .pending {
            let when = next.retryAt.map { ", \(nextAttempt($0, from: now))" } ?? ""
            return (
                .retrying,
                "scheduled rotation refused for a while: \(next.lastError ?? "refused") (attempt \(next.attempts)\(when))"
            )
        }
        if let next, next.eligibleAt <= now {
            return (.due, next.state == .started ? "being rotated by another process" : nil)
        }
        return (.ok, nil)
    }

    /// `in 29d`, `overdue 3m`, `now`: a time relative to `now`, for people.
    public static func relative(_ time: Date, from now: Date) -> String {
        let seconds = Int64(time.timeIntervalSince(now).rounded())
        if seconds == 0 { return "now" }
        return seconds > 0 ? "in \(DurationText.age(seconds))" : "overdue \(DurationText.age(-seconds))"
    }

    /// `next in 8m`, or `next with the next pass` once that time has come.
    static func nextAttempt(_ time: Date, from now: Date) -> String {
        time > now ? "next \(relative(time, from: now))" : "next with the next pass of `rotor run`"
    }

    /// `3m ago`, `just now`: a past time relative to `now`, for people.
    public static func ago(_ time: Date, from now: Date) -> String {
        let seconds = Int64(now.timeIntervalSince(time).rounded())
        return seconds <= 0 ? "just now" : "\(DurationText.age(seconds)) ago"
    }
}
