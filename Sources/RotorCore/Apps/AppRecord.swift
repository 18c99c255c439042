import Foundation

/// A registered application, as stored. Secrets live in ``CredentialRecord``.
public struct AppRecord: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var applicationID: String
    public var apiURL: String
    public var schedule: Schedule
    public var jitter: Int64
    public var window: TimeWindow?
    public var timezone: String
    public var identityID: Int64?
    public var enabled: Bool
    public var currentVersion: Int
    public var createdAt: Date
    public var updatedAt: Date
    /// Set while the app needs a person; scheduled rotation waits for a new pair.
    public var attention: Attention?

    public init(
        id: Int64, name: String, applicationID: String, apiURL: String, schedule: Schedule, jitter: Int64,
        window: TimeWindow?, timezone: String, identityID: Int64?, enabled: Bool, currentVersion: Int,
        createdAt: Date, updatedAt: Date, attention: Attention? = nil
    ) {
        self.id = id
        self.name = name
        self.applicationID = applicationID
        self.apiURL = apiURL
        self.schedule = schedule
        self.jitter = jitter
        self.window = window
        self.timezone = timezone
        self.identityID = identityID
        self.enabled = enabled
        self.currentVersion = currentVersion
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.attention = attention
    }
}

/// Why an app needs an operator (`rotation.md`, "An app that needs an
/// operator"): a lost pair, a pair changed outside Rotor, or a clear refusal.
public struct Attention: Sendable, Equatable {
    /// One line: what happened and the command that resolves it.
    public var reason: String
    public var since: Date

    public init(reason: String, since: Date) {
        self.reason = reason
        self.since = since
    }
}

/// One version of an app's client ID and secret.
public struct CredentialRecord: Sendable, Equatable {
    public enum Source: String, Sendable {
        case added, set, rotated, recovered, imported
    }

    public var appID: Int64
    public var version: Int
    public var clientID: String
    /// The sealed client secret; nil once a superseded secret is wiped.
    public var sealedSecret: Data?
    public var fingerprint: String
    public var source: Source
    public var rotationID: Int64?
    public var createdAt: Date

    public init(
        appID: Int64, version: Int, clientID: String, sealedSecret: Data?, fingerprint: String, source: Source,
        rotationID: Int64?, createdAt: Date
    ) {
        self.appID = appID
        self.version = version
        self.clientID = clientID
        self.sealedSecret = sealedSecret
        self.fingerprint = fingerprint
        self.source = source
        self.rotationID = rotationID
        self.createdAt = createdAt
    }
}

/// The states of `rotation.md`.
public enum RotationState: String, Sendable, CaseIterable {
    case requesting, rotated, verified, completed, aborted, failed, lost

    /// States that block a new rotation of the same app.
    public var isUnresolved: Bool {
        switch self {
        case .requesting, .rotated, .verified, .failed: true
        case .completed, .aborted, .lost: false
        }
    }
}

public enum RotationTrigger: String, Sendable, CaseIterable {
    case schedule, manual, recovery
}

/// A rotation as listings show it.
public struct RotationSummary: Sendable, Equatable {
    public var id: Int64
    public var appID: Int64
    public var trigger: RotationTrigger
    public var state: RotationState
    public var fromVersion: Int
    public var toVersion: Int?
    public var error: String?
    public var startedAt: Date
    public var finishedAt: Date?

    public init(
        id: Int64, appID: Int64, trigger: RotationTrigger, state: RotationState, fromVersion: Int, toVersion: Int?,
        error: String?, startedAt: Date, finishedAt: Date?
    ) {
        self.id = id
        self.appID = appID
        self.trigger = trigger
        self.state = state
        self.fromVersion = fromVersion
        self.toVersion = toVersion
        self.error = error
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }
}

/// An identity as listings show it (its secrets stay sealed in the store).
public struct IdentitySummary: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var username: String
    public var apiURL: String

    public init(id: Int64, name: String, username: String, apiURL: String) {
        self.id = id
        self.name = name
        self.username = username
        self.apiURL = apiURL
    }
}
