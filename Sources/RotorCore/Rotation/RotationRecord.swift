import Foundation

/// A rotation as stored, with what its resolution needs.
public struct RotationRecord: Sendable, Equatable {
    public enum AuthKind: String, Sendable {
        /// The app's own client-credentials token.
        case app
        /// An identity's (user's) token.
        case identity
    }

    public var id: Int64
    public var appID: Int64
    public var trigger: RotationTrigger
    public var state: RotationState
    public var occurrenceDue: Date?
    public var occurrences: Int
    public var authKind: AuthKind?
    /// The sealed token that authorised the rotate request (slot `.rotationAuth`).
    public var authToken: Data?
    public var fromVersion: Int
    public var toVersion: Int?
    public var attempts: Int
    public var nextAttemptAt: Date?
    public var error: String?
    public var startedAt: Date
    public var updatedAt: Date
    public var finishedAt: Date?
    /// How the vendor turned the rotation down, when it was just aborted in
    /// this process. Not stored: it decides what happens next and is gone.
    public var refusal: Refusal?

    public init(
        id: Int64, appID: Int64, trigger: RotationTrigger, state: RotationState, occurrenceDue: Date?, occurrences: Int,
        authKind: AuthKind?, authToken: Data?, fromVersion: Int, toVersion: Int?, attempts: Int, nextAttemptAt: Date?,
        error: String?, startedAt: Date, updatedAt: Date, finishedAt: Date?
    ) {
        self.id = id
        self.appID = appID
        self.trigger = trigger
        self.state = state
        self.occurrenceDue = occurrenceDue
        self.occurrences = occurrences
        self.authKind = authKind
        self.authToken = authToken
        self.fromVersion = fromVersion
        self.toVersion = toVersion
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.error = error
        self.startedAt = startedAt
        self.updatedAt = updatedAt
        self.finishedAt = finishedAt
    }

    public var summary: RotationSummary {
        RotationSummary(
            id: id, appID: appID, trigger: trigger, state: state, fromVersion: fromVersion, toVersion: toVersion,
            error: error, startedAt: startedAt, finishedAt: finishedAt)
    }
}

/// How the vendor turned a rotation down (`rotation.md`, "Scheduling: when work is due").
public enum Refusal: Sendable, Equatable {
    /// 429, 5xx, no answer, a token that expired on the way: a scheduled
    /// rotation is tried again within its occurrence, with backoff.
    case transient(retryAfter: TimeInterval?)
    /// 400, 403, 404, rejected credentials: not retried; the app needs an operator.
    case clear
}

/// A new rotation's intent, before the rotate request leaves the process.
public struct NewRotation: Sendable {
    public var appID: Int64
    public var trigger: RotationTrigger
    public var fromVersion: Int
    public var authKind: RotationRecord.AuthKind
    public var occurrenceDue: Date?
    public var occurrences: Int

    public init(
        appID: Int64, trigger: RotationTrigger, fromVersion: Int, authKind: RotationRecord.AuthKind,
        occurrenceDue: Date? = nil, occurrences: Int = 1
    ) {
        self.appID = appID
        self.trigger = trigger
        self.fromVersion = fromVersion
        self.authKind = authKind
        self.occurrenceDue = occurrenceDue
        self.occurrences = occurrences
    }
}
