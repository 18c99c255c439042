import Foundation

/// An app as `rotor app list` shows it.
public struct AppOverview: Sendable, Equatable {
    public var app: AppRecord
    public var credential: CredentialRecord
    public var lastRotation: RotationSummary?
    /// The app's pending and started occurrences.
    public var active: [OccurrenceRecord]

    public init(
        app: AppRecord, credential: CredentialRecord, lastRotation: RotationSummary?, active: [OccurrenceRecord] = []
    ) {
        self.app = app
        self.credential = credential
        self.lastRotation = lastRotation
        self.active = active
    }

    public var nextDue: Date? { nextDue(at: Date()) }

    /// When the next scheduled rotation may start, as `rotor run` will
    /// start it (``Planner/next(app:secretCreatedAt:active:now:)``).
    public func nextDue(at now: Date) -> Date? {
        Planner.next(app: app, secretCreatedAt: credential.createdAt, active: active, now: now)?.eligibleAt
    }

    /// Seconds since the current pair was stored.
    public func secretAge(at now: Date) -> Int64 {
        Int64(now.timeIntervalSince(credential.createdAt))
    }

    /// Keys in canonical order, so that nothing is sorted per app.
    public func json(at now: Date) -> JSONValue {
        var last = JSONValue.null
        if let rotation = lastRotation {
            let members: [(String, JSONValue)] = [
                ("finished_at", .optional(rotation.finishedAt.map(RFC3339.format))), ("id", .int(rotation.id)),
                ("started_at", .string(RFC3339.format(rotation.startedAt))),
                ("state", .string(rotation.state.rawValue)),
            ]
            last = .object(JSONObject(members: members))
        }
        let members: [(String, JSONValue)] = [
            ("api_url", .string(app.apiURL)),
            ("application_id", .string(app.applicationID)),
            ("client_id", .string(credential.clientID)),
            ("enabled", .bool(app.enabled)),
            ("fingerprint", .string(credential.fingerprint)),
            ("jitter", .string(DurationText.format(app.jitter))),
            ("last_rotation", last),
            ("name", .string(app.name)),
            ("next_due", .optional(nextDue(at: now).map(RFC3339.format))),
            ("schedule", .string(app.schedule.description)),
            ("secret_age_seconds", .int(secretAge(at: now))),
            ("secret_created_at", .string(RFC3339.format(credential.createdAt))),
            ("timezone", .string(app.timezone)),
            ("version", .int(Int64(credential.version))),
            ("window", .optional(app.window?.description)),
        ]
        return .object(JSONObject(members: members))
    }
}

/// One app as `rotor app show` shows it.
public struct AppDetail: Sendable, Equatable {
    public var overview: AppOverview
    public var identity: String?
    public var rotations: [RotationSummary]
    /// Who may ask the token broker for the app's token (`uid:N`, `group:NAME`).
    public var tokenClients: [String] = []

    public func json(at now: Date) -> JSONValue {
        guard case .object(var members) = overview.json(at: now) else { return .null }
        members["identity"] = .optional(identity)
        members["token_clients"] = .array(tokenClients.map(JSONValue.string))
        members["created_at"] = .string(RFC3339.format(overview.app.createdAt))
        members["rotations"] = .array(rotations.map(\.json))
        return .object(members)
    }
}

extension RotationSummary {
    public var json: JSONValue {
        [
            "id": .int(id), "trigger": .string(trigger.rawValue), "state": .string(state.rawValue),
            "from_version": .int(Int64(fromVersion)), "to_version": .optional(toVersion),
            "started": .string(RFC3339.format(startedAt)), "finished": .optional(finishedAt.map(RFC3339.format)),
            // The names of earlier versions, kept for scripts that read them.
            "started_at": .string(RFC3339.format(startedAt)),
            "finished_at": .optional(finishedAt.map(RFC3339.format)), "error": .optional(error),
        ]
    }
}
