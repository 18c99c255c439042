import Foundation
import RotorCore
import RotorTesting
import Testing
import VitaleraClient
import VitaleraSandbox

/// Faults injected at the sandbox, seen through the client.
struct VendorFaultTests {
    func grant(_ client: VitaleraHTTPClient, _ sandbox: SandboxFixture) async throws(VendorError) -> AccessToken {
        try await client.clientCredentialsGrant(
            apiURL: sandbox.url, clientID: sandbox.application.clientID,
            secret: Secret(sandbox.application.clientSecret))
    }

    @Test func grantsAreRetriedWithBackoffAndRetryAfter() async throws {
        let clock = InstantClock()
        try await withSandbox { sandbox in
            await sandbox.vendor.inject(SandboxFault(endpoint: .grant, status: 503, count: 2))
            await sandbox.vendor.inject(SandboxFault(endpoint: .grant, status: 429, retryAfter: 7, count: 1))
            try await withClient(retry: RetryPolicy(base: 0.5, cap: 10, deadline: 60, maxAttempts: 8), clock: clock) {
                client in
                _ = try await grant(client, sandbox)
            }
            #expect(await sandbox.vendor.requestCount(.grant) == 4)
            let sleeps = clock.sleeps
            try #require(sleeps.count == 3)
            #expect(sleeps[0] <= 0.5 && sleeps[1] <= 1.0)
            #expect(sleeps[2] >= 7)  // Retry-After wins over a shorter jitter
        }
    }

    @Test func retriesStopAtTheDeadlineWithTheLastError() async throws {
        let clock = InstantClock()
        try await withSandbox { sandbox in
            await sandbox.vendor.inject(SandboxFault(endpoint: .grant, status: 502, count: nil))
            try await withClient(retry: RetryPolicy(base: 1, cap: 4, deadline: 10, maxAttempts: 100), clock: clock) {
                client in
                do {
                    _ = try await grant(client, sandbox)
                    Issue.record("succeeded through a permanent 502")
                } catch let error as VendorError {
                    #expect(error.kind == .serverError)
                    #expect(error.status == 502)
                }
            }
            #expect(clock.sleeps.reduce(0, +) <= 10)
            #expect(await sandbox.vendor.requestCount(.grant) >= 2)
        }
    }

    @Test func rejectedCredentialsAreNotRetried() async throws {
        try await withSandbox { sandbox in
            try await withClient(clock: InstantClock()) { client in
                await #expect(throws: VendorError.self) {
                    _ = try await client.clientCredentialsGrant(
                        apiURL: sandbox.url, clientID: sandbox.application.clientID, secret: Secret("wrong"))
                }
            }
            #expect(await sandbox.vendor.requestCount(.grant) == 1)
        }
    }

    @Test(arguments: [503, 429, 500, 502])
    func rotateIsNeverRetried(status: Int) async throws {
        try await withSandbox { sandbox in
            try await withClient(clock: InstantClock()) { client in
                let token = try await grant(client, sandbox)
                await sandbox.vendor.inject(SandboxFault(endpoint: .rotate, status: status, retryAfter: 1))
                do {
                    _ = try await client.rotateCredentials(
                        apiURL: sandbox.url, token: token.token, applicationID: sandbox.application.id)
                    Issue.record("rotate succeeded through a fault")
                } catch let error as VendorError {
                    #expect(error.isTransient)
                    #expect(error.status == status)
                }
            }
            #expect(await sandbox.vendor.requestCount(.rotate) == 1)
            #expect(await sandbox.vendor.application(sandbox.application.id)?.rotations == 0)
        }
    }

    @Test(arguments: [SandboxFault.AfterCommit.drop, .garbage])
    func aLostAnswerAfterCommitLeavesTheVendorRotated(afterCommit: SandboxFault.AfterCommit) async throws {
        try await withSandbox { sandbox in
            try await withClient(clock: InstantClock()) { client in
                let token = try await grant(client, sandbox)
                await sandbox.vendor.inject(SandboxFault(endpoint: .rotate, afterCommit: afterCommit))
                do {
                    _ = try await client.rotateCredentials(
                        apiURL: sandbox.url, token: token.token, applicationID: sandbox.application.id)
                    Issue.record("the answer arrived")
                } catch let error as VendorError {
                    #expect(error.kind == (afterCommit == .drop ? .networkError : .malformedAnswer))
                }
            }
            #expect(await sandbox.vendor.application(sandbox.application.id)?.rotations == 1)
        }
    }

    @Test func aSlowAnswerAfterCommitTimesOut() async throws {
        try await withSandbox { sandbox in
            try await VitaleraHTTPClient.with(clock: InstantClock()) { base in
                // The grant with the usual timeout (a busy machine may take longer than the short one);
                // only the rotation's answer is held back past it.
                let token = try await grant(base, sandbox)
                var client = base
                client.requestTimeout = .milliseconds(300)
                await sandbox.vendor.inject(
                    SandboxFault(endpoint: .rotate, afterCommit: .delay, delayAfterCommitMS: 2000))
                do {
                    _ = try await client.rotateCredentials(
                        apiURL: sandbox.url, token: token.token, applicationID: sandbox.application.id)
                    Issue.record("the answer arrived")
                } catch let error as VendorError {
                    #expect(error.kind == .networkError)
                    #expect(error.message == "timed out")
                }
            }
            #expect(await sandbox.vendor.application(sandbox.application.id)?.rotations == 1)
        }
    }

    @Test func latencyIsInjected() async throws {
        try await withSandbox { sandbox in
            await sandbox.vendor.inject(SandboxFault(endpoint: .validate, latencyMS: 300))
            try await withClient { client in
                let token = try await grant(client, sandbox)
                let start = Date()
                #expect(try await client.validate(apiURL: sandbox.url, token: token.token))
                #expect(Date().timeIntervalSince(start) >= 0.3)
            }
        }
    }

    @Test func anAnswerOverOneMebibyteIsMalformed() async throws {
        try await withSandbox { sandbox in
            let huge = "{\"access_token\":\"" + String(repeating: "x", count: 1_100_000) + "\"}"
            await sandbox.vendor.inject(SandboxFault(endpoint: .grant, status: 200, body: huge))
            try await withClient(clock: InstantClock()) { client in
                do {
                    _ = try await grant(client, sandbox)
                    Issue.record("read a 1.1 MB answer")
                } catch let error as VendorError {
                    #expect(error.kind == .malformedAnswer)
                }
            }
        }
    }
}
