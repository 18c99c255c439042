import Foundation

/// Access tokens kept in memory per app or identity until shortly before
/// they expire.
public actor TokenCache {
    private var tokens: [String: AccessToken] = [:]
    private let clock: any WallClock
    /// A token is reused only while it has at least this many seconds left.
    public let margin: TimeInterval

    public init(clock: any WallClock, margin: TimeInterval = 60) {
        self.clock = clock
        self.margin = margin
    }

    /// The cached token for `key` if it is still fresh.
    public func cached(_ key: String) -> AccessToken? {
        guard let token = tokens[key], token.isFresh(at: clock.now, margin: margin) else { return nil }
        return token
    }

    public func store(_ token: AccessToken, for key: String) {
        tokens[key] = token
    }

    public func invalidate(_ key: String) {
        tokens[key] = nil
    }

    /// The cached token for `key`, or a new one from `fetch`.
    public func token(
        for key: String, fetch: @Sendable () async throws(VendorError) -> AccessToken
    ) async throws(VendorError) -> AccessToken {
        if let token = cached(key) { return token }
        let token = try await fetch()
        tokens[key] = token
        return token
    }

    /// Runs `use` with a token for `key`. If the vendor answers
    /// `expired_token`, the cached token is dropped and `use` runs once more
    /// with a fresh one.
    public func withToken<T: Sendable>(
        for key: String, fetch: @Sendable () async throws(VendorError) -> AccessToken,
        _ use: @Sendable (AccessToken) async throws(VendorError) -> T
    ) async throws(VendorError) -> T {
        let token = try await self.token(for: key, fetch: fetch)
        do {
            return try await use(token)
        } catch  where error.kind == .expiredToken {
            tokens[key] = nil
            let fresh = try await self.token(for: key, fetch: fetch)
            return try await use(fresh)
        }
    }
}
