import Foundation

/// A client ID and its secret: what signs in with a client-credentials grant.
public struct ClientPair: Sendable, Equatable {
    public var clientID: String
    public var secret: Secret

    public init(clientID: String, secret: Secret) {
        self.clientID = clientID
        self.secret = secret
    }
}

extension RotatedPair {
    /// The new pair itself, without what the answer says about the application.
    public var pair: ClientPair { ClientPair(clientID: clientID, secret: clientSecret) }
}
