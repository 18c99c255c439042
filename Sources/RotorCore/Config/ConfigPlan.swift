import Foundation

/// What the database holds that a config file speaks about, read in one
/// transaction.
public struct ConfigSnapshot: Sendable {
    public var apps: [AppRecord]
    public var identities: [Int64: String]
    public var targets: [Int64: [TargetRecord]]
    public var alerts: [AlertRecord]
    /// Apps with a rotation that is not resolved yet.
    public var unresolved: Set<Int64>

    public static func read(from reader: any StoreReader) throws -> ConfigSnapshot {
        let apps = try reader.apps()
        var targets: [Int64: [TargetRecord]] = [:]
        var unresolved: Set<Int64> = []
        for app in apps {
            targets[app.id] = try reader.targets(appID: app.id)
            if try reader.unresolvedRotation(appID: app.id) != nil { unresolved.insert(app.id) }
        }
        return ConfigSnapshot(
            apps: apps,
            identities: Dictionary(try reader.identities().map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a }),
            targets: targets, alerts: try reader.alerts(), unresolved: unresolved)
    }
}

/// The changes that make the database match a config file: a pure function
/// of the file and a snapshot, printed first (`+ app billing`, `~ app crm:
/// schedule every 30d → every 7d`, `- target crm/2`) and then carried out
/// in one transaction by ``ConfigApplier``.
public struct ConfigPlan: Sendable {
    /// One line of the plan.
    public struct Change: Sendable, Equatable {
        public enum Symbol: String, Sendable {
            case add = "+"
            case change = "~"
            case remove = "-"
        }

        public var symbol: Symbol
        /// `app`, `target` or `alert`.
        public var kind: String
        /// `billing`, `billing/3`, `billing: file /etc/billing.env (env, mode 600)`, `2: exec page-oncall`.
        public var subject: String
        /// What changes, one phrase each (`mode 600 → 640`); never a secret.
        public var details: [String]

        public var text: String {
            "\(symbol.rawValue) \(kind) \(subject)" + (details.isEmpty ? "" : ": " + details.joined(separator: ", "))
        }
    }

    enum Step: Sendable {
        case addApp(DesiredApp)
        case changeApp(name: String, AppChanges)
        case removeApp(name: String)
        case addTarget(app: String, DesiredTarget)
        case changeTarget(app: String, TargetRecord, changes: [String])
        case removeTarget(app: String, id: Int64)
        case addAlert(DesiredAlert)
        case changeAlert(AlertRecord, changes: [String])
        case removeAlert(id: Int64)
    }

    public private(set) var changes: [Change] = []
    private(set) var steps: [Step] = []

    public var isEmpty: Bool { changes.isEmpty }

    /// The apps the plan adds, each needing its first pair.
    public var newApps: [DesiredApp] {
        steps.compactMap { step in
            if case .addApp(let app) = step { return app }
            return nil
        }
    }

    private mutating func append(
        _ symbol: Change.Symbol, _ kind: String, _ subject: String, _ details: [String], _ step: Step
    ) {
        changes.append(Change(symbol: symbol, kind: kind, subject: subject, details: details))
        steps.append(step)
    }

    /// The plan for `desired` against `current`. With `prune`, apps, targets
    /// and alerts the file does not name are removed; without, left alone.
    public static func make(_ desired: DesiredConfig, _ current: ConfigSnapshot, prune: Bool) throws -> ConfigPlan {
        var plan = ConfigPlan()
        let byName = Dictionary(current.apps.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let identities = Set(current.identities.values)
        for app in desired.apps {
            if let identity = app.identity, !identities.contains(identity) {
                throw ConfigProblem(
                    "\(app.path).identity", "no identity named \(identity); add it first with `rotor identity add`")
            }
            guard let existing = byName[app.name] else {
                guard app.initialCredentials != nil else {
                    throw ConfigProblem(
                        app.path,
                        "app \(app.name) is new: give initial_credentials, a file with its current pair in the env or json target format"
                    )
                }
                let targets = app.targets.count == 1 ? "1 target" : "\(app.targets.count) targets"
                plan.append(
                    .add, "app", app.name,
                    [app.schedule.description, targets, "first pair from \(app.initialCredentials ?? "")"]
                        + (app.verify ? [] : ["not checked with the vendor"]),
                    .addApp(app))
                for target in app.targets {
                    plan.append(
                        .add, "target", "\(app.name): \(summary(of: target))", [], .addTarget(app: app.name, target))
                }
                continue
            }
            if existing.applicationID != app.applicationID {
                throw ConfigProblem(
                    "\(app.path).application_id",
                    "app \(app.name) rotates application \(existing.applicationID), not \(app.applicationID); an app's application does not change (remove the app and add it again)"
                )
            }
            let (changes, details) = appChanges(existing, app, identities: current.identities)
            if !details.isEmpty {
                plan.append(.change, "app", app.name, details, .changeApp(name: app.name, changes))
            }
            let targets = current.targets[existing.id] ?? []
            for target in app.targets {
                guard let twin = targets.first(where: { $0.kind.repeats(target.kind) }) else {
                    plan.append(
                        .add, "target", "\(app.name): \(summary(of: target))", [], .addTarget(app: app.name, target))
                    continue
                }
                let (updated, details) = targetChanges(twin, target)
                if !details.isEmpty {
                    plan.append(
                        .change, "target", "\(app.name)/\(twin.id)", details,
                        .changeTarget(app: app.name, updated, changes: details))
                }
            }
            if prune {
                for target in targets where !app.targets.contains(where: { $0.kind.repeats(target.kind) }) {
                    plan.append(
                        .remove, "target", "\(app.name)/\(target.id)", [target.summary],
                        .removeTarget(app: app.name, id: target.id))
                }
            }
        }
        if prune {
            let named = Set(desired.apps.map(\.name))
            for app in current.apps where !named.contains(app.name) {
                if current.unresolved.contains(app.id) {
                    throw RotorError(
                        .invalidInput,
                        "--prune would remove \(app.name) while a rotation of it is unresolved: removing it now could lose the only copy of its new pair; let `rotor run --once` resolve it first"
                    )
                }
                plan.append(.remove, "app", app.name, ["application \(app.applicationID)"], .removeApp(name: app.name))
            }
        }
        for alert in desired.alerts {
            guard let twin = current.alerts.first(where: { matches($0, alert) }) else {
                plan.append(.add, "alert", alertText(alert.record(id: 0)), [], .addAlert(alert))
                continue
            }
            var updated = alert.record(id: twin.id)
            updated.webhook?.sealedHeaders = twin.webhook?.sealedHeaders
            var details: [String] = []
            note(&details, "timeout", duration(twin.timeout), duration(alert.timeout))
            note(&details, "on", AlertEvent.text(twin.events), AlertEvent.text(alert.events))
            note(&details, "secret_file", twin.webhook?.secretFile ?? "none", alert.webhook?.secretFile ?? "none")
            if !details.isEmpty {
                plan.append(.change, "alert", "\(twin.id)", details, .changeAlert(updated, changes: details))
            }
        }
        if prune {
            for alert in current.alerts where !desired.alerts.contains(where: { matches(alert, $0) }) {
                plan.append(.remove, "alert", "\(alert.id)", [alertText(alert)], .removeAlert(id: alert.id))
            }
        }
        return plan
    }

    static func appChanges(_ app: AppRecord, _ desired: DesiredApp, identities: [Int64: String]) -> (
        AppChanges, [String]
    ) {
        var changes = AppChanges()
        var details: [String] = []
        if app.apiURL != desired.apiURL {
            changes.apiURL = desired.apiURL
            details.append("api_url \(app.apiURL) → \(desired.apiURL)")
        }
        if app.schedule != desired.schedule {
            changes.schedule = desired.schedule
            details.append("schedule \(app.schedule) → \(desired.schedule)")
        }
        if app.jitter != desired.jitter {
            changes.jitter = desired.jitter
            details.append("jitter \(DurationText.format(app.jitter)) → \(DurationText.format(desired.jitter))")
        }
        if app.window != desired.window {
            changes.window = .some(desired.window)
            details.append("window \(app.window?.description ?? "none") → \(desired.window?.description ?? "none")")
        }
        if app.timezone != desired.timezone {
            changes.timezone = desired.timezone
            details.append("timezone \(app.timezone) → \(desired.timezone)")
        }
        let identity = app.identityID.flatMap { identities[$0] }
        if identity != desired.identity {
            changes.identity = .some(desired.identity)
            details.append("identity \(identity ?? "none") → \(desired.identity ?? "none")")
        }
        if app.enabled != desired.enabled {
            changes.enabled = desired.enabled
            details.append(desired.enabled ? "enabled" : "disabled")
        }
        return (changes, details)
    }

    /// The stored target with the file's settings, and what differs.
    static func targetChanges(_ target: TargetRecord, _ desired: DesiredTarget) -> (TargetRecord, [String]) {
        var updated = target
        updated.kind = desired.kind
        updated.check = desired.check
        var details: [String] = []
        switch (target.kind, desired.kind) {
        case (.file(let old), .file(let new)):
            if old.template != new.template {
                details.append(
                    old.template == nil
                        ? "format \(old.format.rawValue) → template"
                        : new.template == nil ? "template → format \(new.format.rawValue)" : "template changed")
            } else if old.format != new.format {
                details.append("format \(old.format.rawValue) → \(new.format.rawValue)")
            }
            note(&details, "mode", String(old.mode, radix: 8), String(new.mode, radix: 8))
            note(&details, "in_place", "\(old.inPlace)", "\(new.inPlace)")
            note(&details, "owner", old.owner ?? "none", new.owner ?? "none")
            note(&details, "group", old.group ?? "none", new.group ?? "none")
        case (.exec(let old), .exec(let new)):
            note(&details, "timeout", duration(old.timeout), duration(new.timeout))
            note(&details, "env", "\(old.passEnvironment)", "\(new.passEnvironment)")
        case (.webhook(let old), .webhook(var new)):
            note(&details, "timeout", duration(old.timeout), duration(new.timeout))
            note(&details, "secret_file", old.secretFile ?? "none", new.secretFile ?? "none")
            // Headers are not in the file: they stay as `target add` sealed them.
            new.sealedHeaders = old.sealedHeaders
            updated.kind = .webhook(new)
        default:
            break
        }
        note(&details, "check", target.check?.command ?? "none", desired.check?.command ?? "none")
        if let old = target.check, let new = desired.check {
            note(&details, "check_timeout", duration(old.timeout), duration(new.timeout))
        }
        return (updated, details)
    }

    static func summary(of target: DesiredTarget) -> String {
        TargetRecord(id: 0, appID: 0, kind: target.kind, enabled: true, createdAt: Date(timeIntervalSince1970: 0))
            .summary + (target.check.map { ", check \($0.command)" } ?? "")
    }

    static func matches(_ alert: AlertRecord, _ desired: DesiredAlert) -> Bool {
        switch (alert.webhook, desired.webhook) {
        case (let a?, let b?): a.url == b.url
        case (nil, nil): alert.command == desired.command
        default: false
        }
    }

    static func alertText(_ alert: AlertRecord) -> String {
        (alert.webhook == nil ? "exec " : "webhook ") + alert.command + " on \(AlertEvent.text(alert.events))"
    }

    private static func note(_ details: inout [String], _ field: String, _ old: String, _ new: String) {
        if old != new { details.append("\(field) \(old) → \(new)") }
    }

    private static func duration(_ seconds: TimeInterval) -> String { DurationText.format(Int64(seconds)) }
}
