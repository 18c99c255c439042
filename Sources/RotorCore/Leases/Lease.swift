import Foundation

/// Who holds a lease, under which fencing token, until when.
public struct Lease: Sendable, Equatable {
    public var name: String
    public var owner: String
    public var token: Int64
    public var expiresAt: Date

    public init(name: String, owner: String, token: Int64, expiresAt: Date) {
        self.name = name
        self.owner = owner
        self.token = token
        self.expiresAt = expiresAt
    }

    /// How long an app's lease lasts unless renewed; its holder renews it
    /// every third of that while it works.
    public static let appDuration: TimeInterval = 60

    /// The name of the lease that one process holds while it works on an app.
    public static func app(_ id: Int64) -> String { "app:\(id)" }
}
