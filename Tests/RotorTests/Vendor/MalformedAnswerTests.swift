import Foundation
import RotorCore
import RotorTesting
import Testing
import VitaleraClient
import VitaleraSandbox

/// Random and truncated answers from a real server: the client never
/// crashes and calls each one malformed (or an error of its status).
struct MalformedAnswerTests {
    static func truncations() -> [String] {
        let good = #"{"access_token":"eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.sig","token_type":"Bearer","expires_in":3600}"#
        return (0..<good.count).map { String(good.prefix($0)) }
    }

    static func randomBodies(_ count: Int) -> [String] {
        (0..<count).map { _ in
            String(
                String.UnicodeScalarView(
                    (0..<Int.random(in: 0..<200)).compactMap { _ in Unicode.Scalar(UInt32.random(in: 1...0x2FF)) }))
        }
    }

    @Test func truncatedAndRandomGrantAnswers() async throws {
        let bodies =
            Self.truncations() + Self.randomBodies(150) + [
                "null", "[]", "42", #"{"access_token":42}"#, #"{"access_token":""}"#, #"{"access_token":"a b"}"#,
                #"{"access_token":null}"#,
            ]
        try await withSandbox { sandbox in
            for body in bodies {
                await sandbox.vendor.inject(SandboxFault(endpoint: .grant, status: 200, body: body))
            }
            try await withClient(retry: .none) { client in
                for body in bodies {
                    do {
                        _ = try await client.clientCredentialsGrant(
                            apiURL: sandbox.url, clientID: sandbox.application.clientID, secret: Secret("x"))
                        Issue.record("accepted \(Array(body.utf8))")
                    } catch let error as VendorError {
                        #expect(error.kind == .malformedAnswer, "\(body): \(error)")
                    }
                }
            }
        }
    }

    @Test func truncatedAndRandomRotateAnswers() async throws {
        let good =
            #"{"id":"app-1","name":"TestApp","organization":"123","client_id":"cid-new","client_secret":"s3cr3t","application_types":["API"]}"#
        let bodies =
            (0..<good.count).map { String(good.prefix($0)) } + Self.randomBodies(100) + [
                #"{"client_id":"c"}"#, #"{"client_secret":"s"}"#, #"{"client_id":1,"client_secret":"s\n"}"#,
            ]
        try await withSandbox { sandbox in
            try await withClient(retry: .none) { client in
                let token = try await client.clientCredentialsGrant(
                    apiURL: sandbox.url, clientID: sandbox.application.clientID,
                    secret: Secret(sandbox.application.clientSecret))
                for body in bodies {
                    await sandbox.vendor.inject(SandboxFault(endpoint: .rotate, status: 200, body: body))
                    do {
                        _ = try await client.rotateCredentials(
                            apiURL: sandbox.url, token: token.token, applicationID: sandbox.application.id)
                        Issue.record("accepted \(body)")
                    } catch let error as VendorError {
                        #expect(error.kind == .malformedAnswer, "\(body): \(error)")
                    }
                }
            }
        }
    }
}
