import Foundation

/// The vitalera API as Rotor uses it: the five endpoints of `vitalera-api.md`.
///
/// The rotation engine talks to this protocol; the HTTP implementation and
/// the sandbox sit behind it. ``rotateCredentials(apiURL:token:applicationID:)``
/// is never retried by an implementation: after an ambiguous outcome only
/// the rotation engine may decide what to do.
public protocol VendorAPI: Sendable {
    /// 1: client-credentials grant.
    func clientCredentialsGrant(apiURL: String, clientID: String, secret: Secret) async throws(VendorError)
        -> AccessToken
    /// 2: password grant.
    func passwordGrant(apiURL: String, username: String, password: Secret) async throws(VendorError) -> UserTokens
    /// 3: a new access token from a refresh token.
    func refresh(apiURL: String, accessToken: Secret, refreshToken: Secret) async throws(VendorError) -> UserTokens
    /// 4: whether a token is valid now: true on 2xx, false on 401; other answers throw.
    func validate(apiURL: String, token: Secret) async throws(VendorError) -> Bool
    /// 5: rotate an application's pair. The old pair dies when this answers.
    func rotateCredentials(apiURL: String, token: Secret, applicationID: String) async throws(VendorError)
        -> RotatedPair
}

/// A bearer token and when it stops working.
public struct AccessToken: Sendable, Equatable {
    public var token: Secret
    public var expiresAt: Date

    public init(token: Secret, expiresAt: Date) {
        self.token = token
        self.expiresAt = expiresAt
    }

    /// Whether the token will still work `margin` seconds after `now`.
    public func isFresh(at now: Date, margin: TimeInterval = 60) -> Bool {
        expiresAt.timeIntervalSince(now) > margin
    }
}

/// What a password grant or refresh returns.
public struct UserTokens: Sendable, Equatable {
    public var access: AccessToken
    public var refreshToken: Secret?
    public var userID: String?

    public init(access: AccessToken, refreshToken: Secret?, userID: String?) {
        self.access = access
        self.refreshToken = refreshToken
        self.userID = userID
    }
}

/// The answer of `rotate_credentials`: the only copy of the new pair.
public struct RotatedPair: Sendable, Equatable {
    public var applicationID: String
    public var name: String?
    public var organization: String?
    public var clientID: String
    public var clientSecret: Secret

    public init(applicationID: String, name: String?, organization: String?, clientID: String, clientSecret: Secret) {
        self.applicationID = applicationID
        self.name = name
        self.organization = organization
        self.clientID = clientID
        self.clientSecret = clientSecret
    }
}
