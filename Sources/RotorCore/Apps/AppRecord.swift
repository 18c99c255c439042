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
