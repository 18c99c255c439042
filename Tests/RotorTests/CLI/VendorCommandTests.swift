import AsyncHTTPClient
import Foundation
import GRDB
import NIOCore
import RotorCore
import RotorSQLite
import RotorTesting
import Testing
import VitaleraSandbox

/// `app add`, `app set`, `identity …` and `sandbox` through the binary,
/// against the sandbox vendor on a loopback port.
struct VendorCommandTests {
    func add(_ cli: CLIHarness, _ sandbox: SandboxFixture, secret: String, url: String? = nil) async throws
        -> RotorProcess.Result
    {
        try await cli.run(
            [
                "app", "add", "billing", "--application-id", sandbox.application.id, "--client-id",
                sandbox.application.clientID, "--client-secret-stdin", "--api-url", url ?? sandbox.url,
            ],
            stdin: secret + "\n")
    }

    @Test func aGoodPairIsCheckedAndStored() async throws {
        try await withSandbox { sandbox in
            let cli = CLIHarness()
            try await cli.initialize()
            let result = try await add(cli, sandbox, secret: sandbox.application.clientSecret)
            #expect(result.status == 0, "\(result)")
            #expect(result.stdout.contains("pair checked with the vendor"))
            #expect(await sandbox.vendor.requestCount(.grant) == 1)
            #expect(await sandbox.vendor.application(sandbox.application.id)?.rotations == 0)  // adding never rotates
        }
    }

    @Test func aRejectedPairIsNotStored() async throws {
        try await withSandbox { sandbox in
            let cli = CLIHarness()
            try await cli.initialize()
            let before = cli.snapshot()
            let result = try await add(cli, sandbox, secret: "CANARY-wrong-secret")
            #expect(result.status == 1)
            #expect(result.errorLines.count == 1)
            #expect(result.stderr.contains("rejected"))
            #expect(!result.stderr.contains("CANARY"))
            #expect(cli.snapshot() == before)
        }
    }

    @Test func anUnreachableVendorStoresNothing() async throws {
        let cli = CLIHarness()
        try await cli.initialize()
        let before = cli.snapshot()
        let result = try await cli.run(
            [
                "app", "add", "billing", "--application-id", "a", "--client-id", "c", "--client-secret-stdin",
                "--api-url", "http://127.0.0.1:1",
            ],
            stdin: "s\n")
        #expect(result.status == 1)
        #expect(result.errorLines.count == 1)
        #expect(result.stderr.contains("could not reach the vendor"))
        #expect(cli.snapshot() == before)
    }

    @Test func aReplacementPairMustPassAGrant() async throws {
        try await withSandbox { sandbox in
            let cli = CLIHarness()
            try await cli.initialize()
            #expect(try await add(cli, sandbox, secret: sandbox.application.clientSecret).status == 0)
            let wrong = try await cli.run(
                ["app", "set", "billing", "--client-id", "other", "--client-secret-stdin"], stdin: "nope\n")
            #expect(wrong.status == 1)
            // The vendor's support issues a fresh pair (here: a rotation behind Rotor's back).
            let token = try await withClient { client in
                try await client.clientCredentialsGrant(
                    apiURL: sandbox.url, clientID: sandbox.application.clientID,
                    secret: Secret(sandbox.application.clientSecret))
            }
            let fresh = try await withClient { client in
                try await client.rotateCredentials(
                    apiURL: sandbox.url, token: token.token, applicationID: sandbox.application.id)
            }
            try await cli.expectSuccess(
                ["app", "set", "billing", "--client-id", fresh.clientID, "--client-secret-stdin"],
                stdin: fresh.clientSecret.reveal() + "\n")
            #expect(
                try await cli.expectSuccess(["secret", "show", "billing"]).stdout.contains(fresh.clientSecret.reveal()))
        }
    }

    @Test func identitiesAreCheckedStoredListedAndRemoved() async throws {
        try await withSandbox { sandbox in
            let cli = CLIHarness()
            try await cli.initialize()
            let bad = try await cli.run(
                [
                    "identity", "add", "ops", "--username", sandbox.user.username, "--password-stdin", "--api-url",
                    sandbox.url,
                ],
                stdin: "CANARY-bad\n")
            #expect(bad.status == 1)
            #expect(!bad.stderr.contains("CANARY"))
            try await cli.expectSuccess(
                [
                    "identity", "add", "ops", "--username", sandbox.user.username, "--password-stdin", "--api-url",
                    sandbox.url,
                ],
                stdin: sandbox.user.password + "\n")
            try await cli.expectSuccess(
                [
                    "app", "add", "billing", "--application-id", sandbox.application.id, "--client-id",
                    sandbox.application.clientID, "--client-secret-stdin", "--api-url", sandbox.url, "--identity",
                    "ops",
                ],
                stdin: sandbox.application.clientSecret + "\n")
            let list = try await cli.expectSuccess(["identity", "list", "--json"]).stdout
            #expect(list.contains("\"apps\":[\"billing\"]"))
            #expect(!list.contains(sandbox.user.password))
            let refused = try await cli.run(["identity", "remove", "ops"])
            #expect(refused.status == 64)
            #expect(refused.stderr.contains("billing"))
            try await cli.expectSuccess(["app", "set", "billing", "--no-identity"])
            try await cli.expectSuccess(["identity", "remove", "ops"])
            // The password and tokens were sealed: nothing of them in the files.
            for file in try FileManager.default.contentsOfDirectory(atPath: cli.directory.path) {
                let bytes = try cli.directory.read(file)
                #expect(bytes.range(of: Data(sandbox.user.password.utf8)) == nil)
            }
            let store = try SQLiteStore.open(path: cli.db)
            let actions = try store.withConnection {
                try String.fetchAll($0, sql: "SELECT action FROM audit_events ORDER BY id")
            }
            #expect(actions == ["identity.added", "app.added", "app.updated", "identity.removed"])
        }
    }

    @Test func theSandboxCommandServesAndStopsOnSIGTERM() async throws {
        let directory = TemporaryDirectory()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: RotorProcess.binary)
        process.arguments = ["sandbox", "--port", "0"]
        process.currentDirectoryURL = URL(fileURLWithPath: directory.path)
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        var text = ""
        let deadline = Date().addingTimeInterval(20)
        while !text.contains("State:"), Date() < deadline {
            text += String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        }
        func field(_ label: String) -> String? {
            text.split(separator: "\n").first { $0.contains(label) }?.split(separator: " ").last.map(String.init)
        }
        let url = field("listening on")
        let secret = field("client secret")
        let clientID = field("client id")
        #expect(url != nil && secret != nil && clientID != nil, "\(text)")
        if let url, let secret, let clientID {
            let token = try await withClient { client in
                try await client.clientCredentialsGrant(apiURL: url, clientID: clientID, secret: Secret(secret))
            }
            #expect(JWT.expiry(token.token.reveal()) != nil)
            // Another application, registered over HTTP, with a pair of its own that works.
            let created = try await HTTPClient.withHTTPClient { client in
                var request = HTTPClientRequest(url: url + "/_sandbox/applications")
                request.method = .POST
                request.body = .bytes(ByteBuffer(string: #"{"name":"Billing"}"#))
                let response = try await client.execute(request, timeout: .seconds(30))
                #expect(response.status == .created)
                return try JSONDecoder().decode(
                    SandboxApplication.self, from: Data(buffer: try await response.body.collect(upTo: 65536)))
            }
            #expect(created.name == "Billing" && created.organization == "org-demo" && created.clientID != clientID)
            _ = try await withClient { client in
                try await client.clientCredentialsGrant(
                    apiURL: url, clientID: created.clientID, secret: Secret(created.clientSecret))
            }
            let refused = try await HTTPClient.withHTTPClient { client in
                var request = HTTPClientRequest(url: url + "/_sandbox/applications")
                request.method = .POST
                request.body = .bytes(ByteBuffer(string: #"{"name":""}"#))
                return try await client.execute(request, timeout: .seconds(30)).status
            }
            #expect(refused == .badRequest)
        }
        process.terminate()  // SIGTERM
        process.waitUntilExit()
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 0)
    }
}
