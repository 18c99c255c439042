import Foundation

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
