import Foundation

/// An alternating group (`rotor group add NAME --apps A,B`): two apps with
/// the same permissions, rotated in turn on the group's schedule, so that
/// consumers always hold a pair that stays valid for a full period.
public struct GroupRecord: Sendable, Equatable {
    public var id: Int64
    public var name: String
    /// The two members' app IDs, in the order they were given.
    public var members: [Int64]
    public var schedule: Schedule
    public var jitter: Int64
    public var window: TimeWindow?
    public var timezone: String
    public var createdAt: Date

    public init(
        id: Int64 = 0, name: String, members: [Int64], schedule: Schedule, jitter: Int64 = 0,
        window: TimeWindow? = nil, timezone: String = "UTC", createdAt: Date
    ) {
        self.id = id
        self.name = name
        self.members = members
        self.schedule = schedule
        self.jitter = jitter
        self.window = window
        self.timezone = timezone
        self.createdAt = createdAt
    }
}
