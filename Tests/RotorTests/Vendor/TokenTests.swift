import Foundation
import RotorCore
import RotorTesting
import Testing
import VitaleraClient
import VitaleraSandbox

struct RetryPolicyTests {
    @Test func delaysGrowWithFullJitterUpToTheCap() {
        let policy = RetryPolicy(base: 1, cap: 8, deadline: 100, maxAttempts: 10)
        #expect(policy.delay(afterAttempt: 0, retryAfter: nil, random: 0.999) < 1)
        #expect(policy.delay(afterAttempt: 2, retryAfter: nil, random: 0.999) < 4)
        #expect(policy.delay(afterAttempt: 20, retryAfter: nil, random: 0.999) < 8)
        #expect(policy.delay(afterAttempt: 5, retryAfter: nil, random: 0) == 0)
        #expect(policy.delay(afterAttempt: 0, retryAfter: 30, random: 0.5) == 30)
    }

    @Test func onlyTransientErrorsAreRetried() async {
        let clock = InstantClock()
        let policy = RetryPolicy(base: 1, cap: 4, deadline: 60, maxAttempts: 5)
        let attempts = Counter()
        do {
            _ = try await policy.run(clock: clock) { () async throws(VendorError) -> Int in
                attempts.increment()
                throw VendorError(.forbidden, message: "no")
            }
        } catch {
            #expect(error.kind == .forbidden)
        }
        #expect(attempts.value == 1)
        do {
            _ = try await policy.run(clock: clock) { () async throws(VendorError) -> Int in
                attempts.increment()
                throw VendorError(.networkError, message: "reset")
            }
        } catch {
            #expect(error.kind == .networkError)
        }
        #expect(attempts.value == 6)
        #expect(clock.sleeps.count == 4)
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func increment() { lock.withLock { count += 1 } }
}

struct TokenCacheTests {
    @Test func tokensAreReusedUntilShortlyBeforeExpiry() async throws {
        let clock = InstantClock()
        try await withSandbox(settings: SandboxSettings(tokenLifetime: 600), clock: clock) { sandbox in
            try await withClient(clock: clock) { client in
                let cache = TokenCache(clock: clock, margin: 60)
                let fetch: @Sendable () async throws(VendorError) -> AccessToken = {
                    () async throws(VendorError) -> AccessToken in
                    try await client.clientCredentialsGrant(
                        apiURL: sandbox.url, clientID: sandbox.application.clientID,
                        secret: Secret(sandbox.application.clientSecret))
                }
                let first = try await cache.token(for: "app:1", fetch: fetch)
                clock.advance(by: 500)
                #expect(try await cache.token(for: "app:1", fetch: fetch) == first)
                clock.advance(by: 50)  // 50 s left: inside the margin
                let second = try await cache.token(for: "app:1", fetch: fetch)
                #expect(second != first)
                #expect(await sandbox.vendor.requestCount(.grant) == 2)
            }
        }
    }

    @Test func anExpiredTokenAnswerDropsTheTokenAndRetriesOnce() async throws {
        let clock = InstantClock()
        try await withSandbox(clock: clock) { sandbox in
            try await withClient(clock: clock) { client in
                let cache = TokenCache(clock: clock)
                let fetch: @Sendable () async throws(VendorError) -> AccessToken = {
                    () async throws(VendorError) -> AccessToken in
                    try await client.clientCredentialsGrant(
                        apiURL: sandbox.url, clientID: sandbox.application.clientID,
                        secret: Secret(sandbox.application.clientSecret))
                }
                _ = try await cache.token(for: "k", fetch: fetch)
                // The vendor says the token expired though the cache thinks it fresh.
                await sandbox.vendor.inject(SandboxFault(endpoint: .validate, status: 401, count: 1))
                let valid = try await cache.withToken(for: "k", fetch: fetch) {
                    token async throws(VendorError) -> Bool in
                    let answer = try await client.validate(apiURL: sandbox.url, token: token.token)
                    if !answer { throw VendorError(.expiredToken, status: 401, message: "expired") }
                    return answer
                }
                #expect(valid)
                #expect(await sandbox.vendor.requestCount(.grant) == 2)
                #expect(await sandbox.vendor.requestCount(.validate) == 2)
            }
        }
    }
}
