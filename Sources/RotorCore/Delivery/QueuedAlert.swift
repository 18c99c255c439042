import Foundation

/// An alert that could not be sent (the hook failed, the webhook did not
/// answer 2xx): kept in the store and tried again by `rotor run` with the
/// delivery backoff, for ``AlertDispatcher/retryWindow`` at most.
public struct QueuedAlert: Sendable, Equatable {
    public var id: Int64
    public var alertID: Int64
    /// The event as hooks see it (`rotation.failed`), for `ROTOR_EVENT`.
    public var event: String
    public var app: String
    public var severity: String
    /// The alert's JSON document, sent again as it was (never a secret).
    public var document: String
    public var attempts: Int
    public var nextAttemptAt: Date
    public var lastError: String?
    public var createdAt: Date

    public init(
        id: Int64 = 0, alertID: Int64, event: String, app: String, severity: String, document: String,
        attempts: Int, nextAttemptAt: Date, lastError: String?, createdAt: Date
    ) {
        self.id = id
        self.alertID = alertID
        self.event = event
        self.app = app
        self.severity = severity
        self.document = document
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
        self.createdAt = createdAt
    }
}
