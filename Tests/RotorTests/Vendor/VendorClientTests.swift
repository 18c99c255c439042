import Foundation
import RotorCore
import RotorTesting
import Testing
import VitaleraClient
import VitaleraSandbox

/// The HTTP client against the sandbox vendor on a real loopback port.
struct VendorClientTests {
    @Test func everyEndpointAgainstTheSandbox() async throws {
        try await withSandbox { sandbox in
            try await withClient { client in
                let app = sandbox.application
                // 1. client-credentials grant
                let token = try await client.clientCredentialsGrant(
                    apiURL: sandbox.url, clientID: app.clientID, secret: Secret(app.clientSecret))
                #expect(token.expiresAt.timeIntervalSinceNow > 3500)
                #expect(JWT.expiry(token.token.reveal()) != nil)
                // 4. validate
                #expect(try await client.validate(apiURL: sandbox.url, token: token.token))
                #expect(try await !client.validate(apiURL: sandbox.url, token: Secret("not.a.token")))
                // 5. rotate: a new pair, the old one dead at once
                let pair = try await client.rotateCredentials(
                    apiURL: sandbox.url, token: token.token, applicationID: app.id)
                #expect(pair.applicationID == app.id)
                #expect(pair.clientID != app.clientID)
                #expect(pair.clientSecret.reveal() == (await sandbox.currentPair()).clientSecret)
                await #expect(throws: VendorError.self) {
                    _ = try await client.clientCredentialsGrant(
                        apiURL: sandbox.url, clientID: app.clientID, secret: Secret(app.clientSecret))
                }
                do {
                    _ = try await client.clientCredentialsGrant(
                        apiURL: sandbox.url, clientID: app.clientID, secret: Secret(app.clientSecret))
                } catch let error as VendorError {
                    #expect(error.kind == .invalidCredentials)
                    #expect(error.status == 401)
                }
                _ = try await client.clientCredentialsGrant(
                    apiURL: sandbox.url, clientID: pair.clientID, secret: pair.clientSecret)
                // 2. password grant and 3. refresh
                let user = try await client.passwordGrant(
                    apiURL: sandbox.url, username: sandbox.user.username, password: Secret(sandbox.user.password))
                #expect(user.refreshToken != nil)
                #expect(user.userID == sandbox.user.id)
                let renewed = try await client.refresh(
                    apiURL: sandbox.url, accessToken: user.access.token, refreshToken: user.refreshToken!)
                #expect(renewed.access.token != user.access.token)
                #expect(try await client.validate(apiURL: sandbox.url, token: renewed.access.token))
                // A refresh token works once.
                do {
                    _ = try await client.refresh(
                        apiURL: sandbox.url, accessToken: user.access.token, refreshToken: user.refreshToken!)
                    Issue.record("a spent refresh token was accepted")
                } catch let error as VendorError {
                    #expect(error.kind == .invalidToken)
                }
            }
        }
    }

    @Test func aWrongPasswordIsInvalidCredentials() async throws {
        try await withSandbox { sandbox in
            try await withClient { client in
                do {
                    _ = try await client.passwordGrant(
                        apiURL: sandbox.url, username: sandbox.user.username, password: Secret("wrong-password"))
                    Issue.record("accepted a wrong password")
                } catch let error as VendorError {
                    #expect(error.kind == .invalidCredentials)
                    #expect(!error.description.contains("wrong-password"))
                }
            }
        }
    }

    @Test func appTokensRotateOnlyTheirOwnApplication() async throws {
        try await withSandbox { sandbox in
            let other = await sandbox.vendor.addApplication(name: "Other", organization: "org-1")
            let foreign = await sandbox.vendor.addApplication(name: "Foreign", organization: "org-2")
            try await withClient { client in
                let token = try await client.clientCredentialsGrant(
                    apiURL: sandbox.url, clientID: sandbox.application.clientID,
                    secret: Secret(sandbox.application.clientSecret))
                for id in [other.id, foreign.id] {
                    do {
                        _ = try await client.rotateCredentials(
                            apiURL: sandbox.url, token: token.token, applicationID: id)
                        Issue.record("rotated \(id) with another app's token")
                    } catch let error as VendorError {
                        #expect(error.kind == .forbidden)
                    }
                }
                do {
                    _ = try await client.rotateCredentials(
                        apiURL: sandbox.url, token: token.token, applicationID: "missing")
                } catch let error as VendorError {
                    #expect(error.kind == .notFound)
                }
                // A user's token rotates any application of its organization, and no other.
                let user = try await client.passwordGrant(
                    apiURL: sandbox.url, username: sandbox.user.username, password: Secret(sandbox.user.password))
                _ = try await client.rotateCredentials(
                    apiURL: sandbox.url, token: user.access.token, applicationID: other.id)
                await #expect(throws: VendorError.self) {
                    _ = try await client.rotateCredentials(
                        apiURL: sandbox.url, token: user.access.token, applicationID: foreign.id)
                }
            }
        }
    }

    @Test(arguments: [true, false])
    func tokensAfterRotationFollowTheSetting(survive: Bool) async throws {
        try await withSandbox(settings: SandboxSettings(tokensSurviveRotation: survive)) { sandbox in
            try await withClient { client in
                let token = try await client.clientCredentialsGrant(
                    apiURL: sandbox.url, clientID: sandbox.application.clientID,
                    secret: Secret(sandbox.application.clientSecret))
                _ = try await client.rotateCredentials(
                    apiURL: sandbox.url, token: token.token, applicationID: sandbox.application.id)
                #expect(try await client.validate(apiURL: sandbox.url, token: token.token) == survive)
            }
        }
    }

    @Test func expiredTokensAreReportedAsExpired() async throws {
        let clock = InstantClock()
        try await withSandbox(settings: SandboxSettings(tokenLifetime: 60), clock: clock) { sandbox in
            try await withClient(clock: clock) { client in
                let token = try await client.clientCredentialsGrant(
                    apiURL: sandbox.url, clientID: sandbox.application.clientID,
                    secret: Secret(sandbox.application.clientSecret))
                #expect(abs(token.expiresAt.timeIntervalSince(clock.now) - 60) < 1)
                clock.advance(by: 61)
                #expect(try await !client.validate(apiURL: sandbox.url, token: token.token))
                do {
                    _ = try await client.rotateCredentials(
                        apiURL: sandbox.url, token: token.token, applicationID: sandbox.application.id)
                    Issue.record("an expired token rotated")
                } catch let error as VendorError {
                    #expect(error.kind == .expiredToken)
                }
            }
        }
    }

    @Test func plainHTTPToANonLoopbackHostIsRefused() async throws {
        try await withClient { client in
            do {
                _ = try await client.clientCredentialsGrant(
                    apiURL: "http://api.vitalera.io", clientID: "c", secret: Secret("s"))
                Issue.record("sent a secret over plain http")
            } catch let error as VendorError {
                #expect(error.kind == .badRequest)
                #expect(error.message.contains("use https"), "\(error.message)")
            }
        }
    }

    @Test func aClosedPortIsANetworkError() async throws {
        try await withClient(retry: .none) { client in
            do {
                _ = try await client.clientCredentialsGrant(
                    apiURL: "http://127.0.0.1:1", clientID: "c", secret: Secret("s"))
                Issue.record("no error from a closed port")
            } catch let error as VendorError {
                #expect(error.kind == .networkError)
            }
        }
    }
}
