import AsyncHTTPClient
import Foundation
import RotorCore
import RotorTesting
import Testing
import VitaleraSandbox

/// `rotor run --token-socket`: a real daemon, a real Unix socket, the
/// sandbox with short token lifetimes and tokens revoked on rotation.
@Suite(.serialized) struct TokenBrokerTests {
    struct Answer {
        var status: Int
        var body: String
        var document: JSONValue? { JSONValue.parse(body) }
        var token: String? { document?["access_token"].flatMap { if case .string(let s) = $0 { s } else { nil } } }
    }

    /// `GET /v1/token/NAME` over the socket at `path`.
    static func ask(_ path: String, _ name: String) async throws -> Answer {
        let socket = path.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? path
        return try await HTTPClient.withHTTPClient { client in
            let response = try await client.execute(
                HTTPClientRequest(url: "http+unix://\(socket)/v1/token/\(name)"), timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 1 << 20)
            return Answer(status: Int(response.status.code), body: String(buffer: body))
        }
    }

    static func isValid(_ token: String, _ sandbox: SandboxFixture) async throws -> Bool {
        try await withClient { client in try await client.validate(apiURL: sandbox.url, token: Secret(token)) }
    }

    @Test func tokensAreCachedRenewedBeforeExpiryAndAfterARotationAndOnlyForAllowedPeers() async throws {
        // Tokens live 20 s: long enough for a busy machine to ask and check one, short enough to see renewal.
        try await withSandbox(settings: SandboxSettings(tokenLifetime: 20, tokensSurviveRotation: false)) { sandbox in
            let cli = CLIHarness()
            try await cli.initialize()
            try await cli.addApp("billing", from: sandbox)
            try await cli.expectSuccess(["app", "set", "billing", "--token-client", "uid:\(getuid())"])
            let path = cli.directory.file("token.sock")
            let group = try #require(getgrgid(getgid())).pointee.gr_name.map { String(cString: $0) } ?? "root"
            let (daemon, base) = try await OpsEndpointTests.startDaemon(
                cli, ["--token-socket", path, "--token-socket-mode", "0640", "--token-socket-group", group])
            defer { daemon.kill(SIGKILL) }
            var info = stat()
            #expect(stat(path, &info) == 0 && info.st_mode & 0o777 == 0o640 && info.st_gid == getgid())

            let asked = Date()
            let first = try await Self.ask(path, "billing")
            #expect(first.status == 200, "\(first.body)")
            let token = try #require(first.token)
            #expect(first.document?["token_type"] == "Bearer")
            #expect(try await Self.isValid(token, sandbox))
            let again = try await Self.ask(path, "billing")
            // A fresh token comes from the cache (unless this machine took most of its lifetime to ask twice).
            if Date().timeIntervalSince(asked) < 12 { #expect(again.token == token, "not from the cache") }

            // Renewed at about 80 % of its 20 s lifetime, before it expires.
            var renewed = token
            for _ in 0..<300 where renewed == token {
                try await Task.sleep(for: .milliseconds(200))
                renewed = try #require(try await Self.ask(path, "billing").token)
            }
            #expect(renewed != token)
            #expect(try await Self.isValid(renewed, sandbox))

            // A rotation revokes the old pair's tokens: the next answer is a token of the new pair.
            #expect(try await cli.run(["rotate", "billing"]).status == 0)
            #expect(try await !Self.isValid(renewed, sandbox))
            let afterRotation = try #require(try await Self.ask(path, "billing").token)
            #expect(afterRotation != renewed)
            #expect(try await Self.isValid(afterRotation, sandbox))

            #expect(try await Self.ask(path, "nobody-here").status == 404)
            // Another user only: this process is refused, and audited once a minute at most.
            try await cli.expectSuccess(["app", "set", "billing", "--token-client", "uid:\(getuid() + 1)"])
            let refused = try await Self.ask(path, "billing")
            #expect(refused.status == 403 && refused.token == nil, "\(refused.body)")
            #expect(try await Self.ask(path, "billing").status == 403)
            let denied = try await cli.expectSuccess(["audit", "--action", "token.denied", "--format", "jsonl"])
            #expect(denied.stdout.split(separator: "\n").count == 1, "\(denied)")
            #expect(denied.stdout.contains("\"uid\":\(getuid())"))

            // A group the peer is in may ask.
            try await cli.expectSuccess(["app", "set", "billing", "--token-client", "group:\(group)"])
            let member = try await Self.ask(path, "billing")
            #expect(member.status == 200 && member.token != nil, "\(member.body)")
            // A second daemon cannot take the socket over.
            let second = try await cli.run(["run", "--token-socket", path])
            #expect(second.status == 64 && second.stderr.contains("another process serves"), "\(second)")

            let metrics = try await OpsEndpointTests.get(base + "/metrics").body
            #expect(metrics.contains("rotor_tokens_issued_total{app=\"billing\"}"), "\(metrics)")
            let hits = metrics.split(separator: "\n").first { $0.hasPrefix("rotor_token_cache_hits_total ") }
                .flatMap { Double($0.split(separator: " ").last ?? "") }
            #expect((hits ?? 0) >= 1, "\(metrics)")
            #expect(metrics.contains("rotor_tokens_denied_total{app=\"billing\"} 2"))

            daemon.kill(SIGTERM)
            let result = await daemon.wait()
            let audit = try await cli.expectSuccess(["audit", "--format", "jsonl"]).stdout
            for secret in [token, renewed, afterRotation] {
                #expect(!(result.stdout + result.stderr + audit).contains(secret), "a token leaked")
            }
        }
    }

    @Test func aSocketPathInUseOrABadSettingIsRefusedBeforeAnythingStarts() async throws {
        let cli = CLIHarness()
        try await cli.initialize()
        try cli.directory.write("plain-file", "not a socket")
        for (arguments, message) in [
            (["--token-socket", cli.directory.file("plain-file")], "is not a socket"),
            (["--token-socket", cli.directory.file("missing/t.sock")], "does not exist"),
            (["--token-socket", cli.directory.file("t.sock"), "--token-socket-mode", "999"], "octal"),
            (["--token-socket", cli.directory.file("t.sock"), "--token-socket-group", "no-such-group-x"], "no group"),
            (["--token-socket", cli.directory.file("t.sock"), "--once"], "drop --once"),
        ] {
            let result = try await cli.run(["run"] + arguments)
            #expect(result.status == 64 && result.errorLines.count == 1, "\(arguments): \(result)")
            #expect(result.stderr.contains(message), "\(arguments): \(result)")
        }
        #expect(try String(contentsOfFile: cli.directory.file("plain-file"), encoding: .utf8) == "not a socket")
    }
}
