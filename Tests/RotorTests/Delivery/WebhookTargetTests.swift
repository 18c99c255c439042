import Crypto
import Foundation
import RotorCore
import RotorTesting
import Testing
import VitaleraSandbox

/// Webhook targets (`target add NAME --webhook URL`) against a receiver on a loopback port.
@Suite(.serialized)
struct WebhookTargetTests {
    static let key = "webhook-signing-key-0123456789"
    static let header = "Authorization: Bearer receiver-canary-token"

    @Test func aSignedWebhookIsRetriedUntilItIsDelivered() async throws {
        let receiver = try await WebhookReceiver.start(failures: 2)
        defer { Task { await receiver.stop() } }
        try await withSandbox { sandbox in
            let cli = CLIHarness()
            try await cli.initialize()
            try await cli.addApp("billing", from: sandbox)
            try cli.directory.write("webhook.key", Self.key + "\n")
            let url = receiver.url + "/hooks/path-canary-token"
            let added = try await cli.expectSuccess([
                "target", "add", "billing", "--webhook", url, "--header", Self.header, "--secret-file",
                cli.directory.file("webhook.key"),
            ])
            #expect(added.stdout.contains("webhook \(receiver.url)/… (signed, headers)"), "\(added)")
            // 503 twice (the rotation is stored, the delivery retried), then delivered.
            #expect(try await cli.run(["rotate", "billing"]).status == 3)
            #expect(try await cli.run(["publish", "billing"]).status == 3)
            #expect(try await cli.run(["key", "rotate"]).status == 0)  // the headers are re-sealed with the new key
            let published = try await cli.run(["publish", "billing"])
            #expect(published.status == 0, "\(published)")
            let requests = receiver.received
            #expect(requests.map(\.status) == [503, 503, 204])
            let last = try #require(requests.last)
            #expect(last.path == "/hooks/path-canary-token")
            #expect(last.headers["authorization"] == "Bearer receiver-canary-token", "\(last.headers)")
            #expect(last.headers["content-type"] == "application/json")
            #expect(last.headers["x-rotor-app"] == "billing" && last.headers["x-rotor-version"] == "2")
            let mac = HMAC<SHA256>.authenticationCode(for: last.body, using: SymmetricKey(data: Array(Self.key.utf8)))
            #expect(last.headers["x-rotor-signature"] == "sha256=" + mac.map { String(format: "%02x", $0) }.joined())
            let document = try #require(JSONValue.parse(String(decoding: last.body, as: UTF8.self)))
            let pair = await sandbox.currentPair()
            #expect(document["client_secret"] == .string(pair.clientSecret) && document["version"] == 2)
            // The receiver's token, the URL's path and the key stay out of everything Rotor shows.
            let shown = [
                try await cli.expectSuccess(["target", "list", "billing"]).stdout,
                try await cli.expectSuccess(["target", "list", "billing", "--json"]).stdout,
                try await cli.expectSuccess(["audit", "--format", "jsonl", "--limit", "1000"]).stdout,
                try await cli.expectSuccess(["status", "--json"]).stdout, added.stdout, added.stderr,
            ].joined()
            for canary in ["receiver-canary-token", "path-canary-token", Self.key, pair.clientSecret] {
                #expect(!shown.contains(canary), "\(canary) shown")
            }
            #expect(!(try Data(contentsOf: URL(fileURLWithPath: cli.db))).contains(Data("receiver-canary-token".utf8)))
        }
        await receiver.stop()
    }

    @Test func aWebhookAlertIsSignedAndTriedThreeTimes() async throws {
        let receiver = try await WebhookReceiver.start(failures: 2)
        try await withSandbox { sandbox in
            let cli = CLIHarness()
            try await cli.initialize()
            try await cli.addApp("billing", from: sandbox)
            try cli.directory.write("alert.key", Self.key)
            try await cli.expectSuccess([
                "alert", "add", "--webhook", receiver.url + "/alerts", "--on", "completed", "--secret-file",
                cli.directory.file("alert.key"),
            ])
            let listed = try await cli.expectSuccess(["alert", "list"]).stdout
            #expect(listed.contains(receiver.url) && listed.contains("completed"), "\(listed)")
            #expect(try await cli.run(["rotate", "billing"]).status == 0)
            let requests = receiver.received
            #expect(requests.map(\.status) == [503, 503, 204])
            let last = try #require(requests.last)
            let mac = HMAC<SHA256>.authenticationCode(for: last.body, using: SymmetricKey(data: Array(Self.key.utf8)))
            #expect(last.headers["x-rotor-signature"] == "sha256=" + mac.map { String(format: "%02x", $0) }.joined())
            let document = try #require(JSONValue.parse(String(decoding: last.body, as: UTF8.self)))
            #expect(document["event"] == "rotation.completed" && document["severity"] == "info")
            #expect(!String(decoding: last.body, as: UTF8.self).contains(await sandbox.currentPair().clientSecret))
        }
        await receiver.stop()
    }

    @Test(arguments: [
        (["--webhook", "http://hooks.example.com/x"], "loopback"),
        (["--webhook", "https://user:pw@hooks.example.com/x"], "user name or password"),
        (["--webhook", "ftp://hooks.example.com/x"], "https://"),
        (["--webhook", "https://hooks.example.com/x", "--header", "no colon"], "--header"),
        (["--webhook", "https://hooks.example.com/x", "--header", "X-A: b\u{1}c"], "--header"),
        (["--webhook", "https://hooks.example.com/x", "--secret-file", "SHORT"], "shorter than 16 bytes"),
        (["--file", "/tmp/x", "--header", "X-A: b"], "--header and --secret-file go with --webhook"),
    ])
    func aWebhookRotorWouldNotSendIsRefusedAndNothingChanges(_ arguments: [String], message: String) async throws {
        let cli = CLIHarness()
        try await cli.initialize()
        try await cli.addApp("billing", secret: "webhook-refusal-canary")
        try cli.directory.write("short.key", "short\n")
        let before = cli.snapshot()
        let result = try await cli.run(
            ["target", "add", "billing"] + arguments.map { $0 == "SHORT" ? cli.directory.file("short.key") : $0 })
        #expect(result.status == 64, "\(result)")
        #expect(result.stderr.contains(message), "\(result)")
        #expect(!result.stderr.contains("pw@"))
        #expect(cli.snapshot() == before)
    }
}
