import Foundation

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
