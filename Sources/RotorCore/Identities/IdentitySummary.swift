import Foundation

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
