import Foundation

/// One scheduled occurrence of an app's rotation. The app and its nominal
/// due time are the key, unique in the database. The due time is a function
/// of the current pair ("rotate away from version N"), the same in every
/// process, so two processes or a restart never rotate twice for one pair.
public struct OccurrenceRecord: Sendable, Equatable {
    public enum State: String, Sendable {
        /// Planned, not started: it may be claimed once `startAt` (and `retryAt`) has passed.
        case pending
        /// Claimed with the app's lease; consumed by a rotation's intent.
        case started
        /// A rotation was recorded for it.
        case done
        /// Given up without a rotation (written by earlier versions).
        case skipped
    }

    public var appID: Int64
    /// The nominal due time (the schedule's, before jitter and window).
    public var due: Date
    /// The delay derived for this occurrence (``Planner/jitter(appID:due:maximum:)``).
    public var jitterMS: Int64
    /// When the rotation may start: due, plus jitter, moved into the window.
    public var startAt: Date
    /// How many due times this occurrence covers (more than one after downtime).
    public var covers: Int
    public var state: State
    public var rotationID: Int64?
    /// Tries that ended in a transient refusal (429, 5xx, no answer).
    public var attempts: Int
    /// Not before this, after a transient refusal.
    public var retryAt: Date?
    /// Why the last try stopped.
    public var lastError: String?

    public init(
        appID: Int64, due: Date, jitterMS: Int64, startAt: Date, covers: Int, state: State, rotationID: Int64?,
        attempts: Int = 0, retryAt: Date? = nil, lastError: String? = nil
    ) {
        self.appID = appID
        self.due = due
        self.jitterMS = jitterMS
        self.startAt = startAt
        self.covers = covers
        self.state = state
        self.rotationID = rotationID
        self.attempts = attempts
        self.retryAt = retryAt
        self.lastError = lastError
    }

    /// When it may be claimed: its start, or later after a transient refusal.
    public var eligibleAt: Date { max(startAt, retryAt ?? startAt) }
}
