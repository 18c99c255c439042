import Foundation
import RotorCore
import RotorTesting
import Testing
import VitaleraSandbox

/// Alternating groups (consumers.md): two applications rotated in turn, a
/// consumer that never holds a dead pair; the same consumer on a plain app
/// does, for comparison.
@Suite(.serialized) struct GroupTests {
    /// The current pair in an env file (`VITALERA_CLIENT_ID`, `VITALERA_CLIENT_SECRET`).
    static func pair(in path: String) -> (String, String)? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            fields[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        guard let id = fields["VITALERA_CLIENT_ID"], let secret = fields["VITALERA_CLIENT_SECRET"] else { return nil }
        return (id, secret)
    }

    /// A consumer: every 50 ms it re-reads its file and calls the vendor with
    /// the pair in it; returns (calls, rejected calls) after `seconds`.
    static func consume(_ path: String, _ sandbox: SandboxFixture, seconds: TimeInterval) async throws -> (Int, Int) {
        try await withClient(retry: RetryPolicy(base: 0.01, cap: 0.01, deadline: 0, maxAttempts: 1)) { client in
            var calls = 0
            var rejected = 0
            let end = Date().addingTimeInterval(seconds)
            while Date() < end {
                if let (id, secret) = pair(in: path) {
                    calls += 1
                    do {
                        _ = try await client.clientCredentialsGrant(
                            apiURL: sandbox.url, clientID: id, secret: Secret(secret))
                    } catch let error as VendorError where error.kind == .invalidCredentials {
                        rejected += 1
                    }
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            return (calls, rejected)
        }
    }

    @Test func aConsumerOfAGroupIsNeverRejectedWhileOneOfAPlainAppIs() async throws {
        try await withSandbox { sandbox in
            let cli = CLIHarness()
            try await cli.initialize()
            let second = await sandbox.vendor.addApplication(name: "Billing standby", organization: "org-1")
            let plain = await sandbox.vendor.addApplication(name: "Plain", organization: "org-1")
            try await cli.addApp("billing-a", from: sandbox)
            for (name, application) in [("billing-b", second), ("plain", plain)] {
                try await cli.expectSuccess(
                    [
                        "app", "add", name, "--application-id", application.id, "--client-id", application.clientID,
                        "--client-secret-stdin", "--api-url", sandbox.url,
                    ], stdin: application.clientSecret + "\n")
            }
            try await cli.expectSuccess(["group", "add", "billing", "--apps", "billing-a,billing-b", "--every", "3s"])
            try await cli.expectSuccess(["app", "set", "plain", "--every", "3s"])
            // The same slow consumer reload before each file is written, for both.
            for name in ["billing", "plain"] {
                try await cli.expectSuccess(["target", "add", name, "--exec", "sleep 0.5"])
                try await cli.expectSuccess(["target", "add", name, "--file", cli.directory.file("\(name).env")])
            }
            try await cli.expectSuccess(["publish", "billing"])
            try await cli.expectSuccess(["publish", "plain"])
            // The token broker answers a group's name with its current member's token.
            for member in ["billing-a", "billing-b"] {
                try await cli.expectSuccess(["app", "set", member, "--token-client", "uid:\(getuid())"])
            }
            let socket = cli.directory.file("token.sock")
            let daemon = try cli.rotor.start(["run", "--token-socket", socket])
            defer { daemon.kill(SIGKILL) }

            async let group = Self.consume(cli.directory.file("billing.env"), sandbox, seconds: 60)
            async let single = Self.consume(cli.directory.file("plain.env"), sandbox, seconds: 60)
            let ((groupCalls, groupRejected), (plainCalls, plainRejected)) = try await (group, single)
            let answer = try await TokenBrokerTests.ask(socket, "billing")
            let token = try #require(answer.token, "\(answer.body)")
            #expect(try await TokenBrokerTests.isValid(token, sandbox))
            daemon.kill(SIGTERM)
            let result = await daemon.wait()

            let rotations = await [sandbox.application.id, second.id, plain.id].asyncMap {
                await sandbox.vendor.application($0)?.rotations ?? 0
            }
            // Both were rotated all along: about 20 times each in a minute.
            #expect(rotations[0] + rotations[1] >= 8, "group rotations \(rotations), \(result)")
            #expect(rotations[2] >= 8, "plain rotations \(rotations)")
            #expect(abs(rotations[0] - rotations[1]) <= 1, "the members take turns: \(rotations)")
            #expect(groupCalls > 300 && plainCalls > 300)
            #expect(groupRejected == 0, "group: \(groupRejected) of \(groupCalls) calls rejected")
            #expect(plainRejected > 0, "plain app: \(plainRejected) of \(plainCalls) calls rejected")
            print(
                "group: \(groupRejected) of \(groupCalls) calls rejected; plain app: \(plainRejected) of \(plainCalls)")
            #expect(try await cli.expectSuccess(["audit", "verify"]).status == 0)
        }
    }

    @Test func groupsRefuseWhatWouldBreakThemAndShowTheirState() async throws {
        let cli = CLIHarness()
        try await cli.initialize()
        for name in ["a", "b", "c"] { try await cli.addApp(name, secret: "group-canary-\(name)") }
        for (arguments, message) in [
            (["--apps", "a,a", "--every", "1d"], "two different apps"),
            (["--apps", "a,b"], "--every or --cron"),
            (["--apps", "a,nobody", "--every", "1d"], "no app named"),
        ] {
            let result = try await cli.run(["group", "add", "pair"] + arguments)
            #expect(result.status == 64 && result.errorLines.count == 1, "\(arguments): \(result)")
            #expect(result.stderr.contains(message), "\(arguments): \(result)")
        }
        #expect(try await cli.run(["group", "add", "c", "--apps", "a,b", "--every", "1d"]).status == 64)
        try await cli.expectSuccess(["group", "add", "pair", "--apps", "a,b", "--every", "1d"])
        let twice = try await cli.run(["group", "add", "other", "--apps", "b,c", "--every", "1d"])
        #expect(twice.status == 64 && twice.stderr.contains("already in a group"), "\(twice)")
        let removeMember = try await cli.run(["app", "remove", "a"])
        #expect(removeMember.status == 64 && removeMember.stderr.contains("group remove pair"), "\(removeMember)")

        // Templates of a group see current.* and standby.*; an app's do not.
        try cli.directory.write("group.mustache", "id={{current.client_id}}\nold={{standby.client_id}}\n")
        try cli.directory.write("app.mustache", "id={{client_id}}\n")
        try await cli.expectSuccess([
            "target", "add", "pair", "--file", cli.directory.file("pair.txt"), "--template",
            cli.directory.file("group.mustache"),
        ])
        #expect(
            try await cli.run([
                "target", "add", "pair", "--file", cli.directory.file("x.txt"), "--template",
                cli.directory.file("app.mustache"),
            ]).status == 64)
        #expect(
            try await cli.run([
                "target", "add", "c", "--file", cli.directory.file("y.txt"), "--template",
                cli.directory.file("group.mustache"),
            ]).status == 64)
        #expect(try await cli.run(["target", "add", "pair", "--webhook", "https://hooks.example.com/x"]).status == 64)
        try await cli.expectSuccess([
            "target", "add", "pair", "--file", cli.directory.file("pair.json"), "--format", "json",
        ])

        // b was added last: it is current, a is standby and rotated first.
        let shown = try #require(
            JSONValue.parse(try await cli.expectSuccess(["group", "show", "pair", "--json"]).stdout))
        #expect(shown["current"]?["app"] == "b" && shown["standby"]?["app"] == "a" && shown["version"] == 2)
        #expect(shown["reread_by"] != nil && shown["reread_by"] != .null, "\(shown)")
        try await cli.expectSuccess(["publish", "pair"])
        let listed = try await cli.expectSuccess(["target", "list", "pair", "--json"]).stdout
        #expect(listed.components(separatedBy: "\"state\":\"delivered\"").count == 3, "\(listed)")
        #expect(String(decoding: try cli.directory.read("pair.txt"), as: UTF8.self) == "id=client-b\nold=client-a\n")
        let json = try #require(JSONValue.parse(String(decoding: try cli.directory.read("pair.json"), as: UTF8.self)))
        #expect(json["current"]?["client_secret"] == "group-canary-b" && json["standby"]?["client_id"] == "client-a")
        // Status says the members follow the group.
        let status = try await cli.run(["status", "--json"])
        #expect(status.stdout.contains("\"schedule\":\"group pair (standby)\""), "\(status)")
        try await cli.expectSuccess(["group", "remove", "pair"])
        try await cli.expectSuccess(["app", "remove", "a"])
        let audit = try await cli.expectSuccess(["audit", "--format", "jsonl"]).stdout
        #expect(audit.contains("\"action\":\"group.added\"") && audit.contains("\"action\":\"group.removed\""))
        #expect(!audit.contains("group-canary"))
    }
}

extension Array where Element: Sendable {
    func asyncMap<T>(_ transform: (Element) async -> T) async -> [T] {
        var out: [T] = []
        for element in self { out.append(await transform(element)) }
        return out
    }
}
