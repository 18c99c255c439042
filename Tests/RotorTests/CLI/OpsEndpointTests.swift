import AsyncHTTPClient
import Foundation
import GRDB
import NIOHTTP1
import RotorCore
import RotorSQLite
import RotorTesting
import Testing
import VitaleraSandbox

/// `rotor run --listen`: `/healthz`, `/metrics`, `/api/status` and the status page, over real HTTP.
struct OpsEndpointTests {
    static func get(_ url: String, token: String? = nil) async throws -> (status: Int, body: String) {
        try await HTTPClient.withHTTPClient { client in
            var request = HTTPClientRequest(url: url)
            if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
            let response = try await client.execute(request, timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 1 << 22)
            return (Int(response.status.code), String(buffer: body))
        }
    }

    /// Starts `rotor run --listen` on a free loopback port and waits until `/healthz` answers 200.
    static func startDaemon(_ cli: CLIHarness, _ extra: [String] = []) async throws -> (RunningRotor, String) {
        for _ in 0..<5 {
            // Below Linux's ephemeral range, which the suite's outgoing connections take.
            let port = Int.random(in: 20000...32000)
            let daemon = try cli.rotor.start(["run", "--listen", "127.0.0.1:\(port)"] + extra)
            let base = "http://127.0.0.1:\(port)"
            for _ in 0..<600 {
                if let health = try? await get(base + "/healthz"), health.status == 200 { return (daemon, base) }
                if !daemon.process.isRunning { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            daemon.kill(SIGKILL)
            let result = await daemon.wait()
            // A port another process holds: try another one.
            guard result.stderr.contains("cannot listen") else {
                throw RotorError(.io, "the daemon did not come up: \(result)")
            }
        }
        throw RotorError(.io, "no free port found for the daemon")
    }

    /// Polls `url` until `condition` holds for its body (a generous guard, not a measurement).
    static func poll(_ url: String, until condition: (String) -> Bool) async throws -> String {
        var body = ""
        for _ in 0..<600 {
            body = try await get(url).body
            if condition(body) { return body }
            try await Task.sleep(for: .milliseconds(100))
        }
        return body
    }

    @Test func healthzAndALostRotationInTheMetrics() async throws {
        try await withSandbox(settings: SandboxSettings(tokensSurviveRotation: false)) { sandbox in
            let cli = CLIHarness()
            try await cli.initialize()
            try await cli.addApp("billing", from: sandbox)
            #expect(try await cli.run(["rotate", "billing"]).status == 0)
            let (daemon, base) = try await Self.startDaemon(cli)
            defer { daemon.kill(SIGKILL) }
            let health = try await Self.get(base + "/healthz")
            #expect(health.status == 200)
            #expect(health.body == "{\"status\":\"ok\"}\n")
            let metrics = try await Self.get(base + "/metrics").body
            #expect(metrics.contains("rotor_app_secret_age_seconds{app=\"billing\"}"))
            #expect(metrics.contains("rotor_lost_apps 0"))
            // A lost rotation needs a person, not a restart: the daemon stays healthy, the metrics say it.
            await sandbox.vendor.inject(SandboxFault(endpoint: .rotate, afterCommit: .drop))
            #expect(try await cli.run(["rotate", "billing"]).status == 4)
            #expect(try await Self.get(base + "/healthz").status == 200)
            let after = try await Self.get(base + "/metrics").body
            #expect(after.contains("rotor_lost_apps 1"))
            #expect(after.contains("rotor_app_needs_action{app=\"billing\"} 1"), "\(after)")
            #expect(after.contains("rotor_app_healthy{app=\"billing\"} 0"), "\(after)")
            daemon.kill(SIGTERM)
            #expect(await daemon.wait().status == 0)
        }
    }

    @Test func everyFamilyHasHelpAndTypeAndARemovedAppsSeriesGo() async throws {
        try await withSandbox { sandbox in
            let cli = CLIHarness()
            try await cli.initialize()
            try await cli.addApp("billing", from: sandbox, extra: ["--every", "2s"])
            try await cli.expectSuccess(["target", "add", "billing", "--file", cli.directory.file("billing.env")])
            try await cli.addApp("crm", secret: "crm-secret-never-shown")
            let (daemon, base) = try await Self.startDaemon(cli)
            defer { daemon.kill(SIGKILL) }
            let metrics = try await Self.poll(base + "/metrics") {
                $0.contains("rotor_rotations_total{app=\"billing\",outcome=\"completed\"}")
                    && $0.contains("rotor_deliveries_total{app=\"billing\",outcome=\"succeeded\"}")
            }
            for series in [
                "rotor_build_info{version=\"\(RotorVersion.string)\"} 1",
                "rotor_app_info{app=\"billing\",application_id=\"\(sandbox.application.id)\"} 1",
                "rotor_app_info{app=\"crm\",application_id=\"app-crm\"} 1",
                "rotor_app_healthy{app=\"billing\"}", "rotor_app_needs_action{app=\"crm\"} 0",
                "rotor_app_secret_age_seconds{app=\"crm\"}",
                "rotor_app_next_rotation_timestamp_seconds{app=\"billing\"}",
                "rotor_app_last_success_timestamp_seconds{app=\"billing\"}",
                "rotor_rotations_total{app=\"billing\",outcome=\"completed\"}",
                "rotor_deliveries_total{app=\"billing\",outcome=\"succeeded\"}",
                "rotor_rotation_duration_seconds_bucket{le=",
                "rotor_vendor_requests_total{endpoint=\"rotate_credentials\",status=\"200\"}",
                "rotor_vendor_requests_total{endpoint=\"tokens\",status=\"200\"}",
            ] {
                #expect(metrics.contains(series), "\(series) missing from\n\(metrics)")
            }
            // No schedule, no next rotation.
            #expect(!metrics.contains("rotor_app_next_rotation_timestamp_seconds{app=\"crm\"}"))
            // Every family says what it is and what it means.
            let lines = metrics.split(separator: "\n").map(String.init)
            let typed = Set(lines.filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] })
            let helped = Set(lines.filter { $0.hasPrefix("# HELP ") }.map { $0.split(separator: " ")[2] })
            #expect(typed == helped)
            for sample in lines where !sample.hasPrefix("#") {
                let name = sample.prefix { $0 != "{" && $0 != " " }
                let family = ["_bucket", "_sum", "_count"].reduce(String(name)) { name, suffix in
                    name.hasSuffix(suffix) && typed.contains(Substring(name.dropLast(suffix.count)))
                        ? String(name.dropLast(suffix.count)) : name
                }
                #expect(typed.contains(Substring(family)), "\(sample) has no # TYPE")
            }
            try await cli.expectSuccess(["app", "remove", "crm"])
            let after = try await Self.get(base + "/metrics").body
            #expect(!after.contains("app=\"crm\""), "\(after)")
            #expect(after.contains("rotor_app_info{app=\"billing\""))
            daemon.kill(SIGTERM)
            #expect(await daemon.wait().status == 0)
        }
    }

    @Test func apiStatusIsTheStatusDocumentAndATokenGuardsAllButHealthz() async throws {
        try await withSandbox { sandbox in
            let cli = CLIHarness()
            try await cli.initialize()
            try await cli.addApp("billing", from: sandbox)
            try await cli.addApp("crm", secret: "crm-secret-never-shown", extra: ["--every", "30d"])
            let token = "tok-\(UUID().uuidString)"
            try cli.directory.write("listen.token", token + "\n", mode: 0o640)
            let (daemon, base) = try await Self.startDaemon(
                cli, ["--listen-token-file", cli.directory.file("listen.token")])
            defer { daemon.kill(SIGKILL) }
            #expect(try await Self.get(base + "/healthz").status == 200)
            for path in ["/", "/api/status", "/metrics"] {
                #expect(try await Self.get(base + path).status == 401, "\(path)")
                #expect(try await Self.get(base + path, token: token + "x").status == 401, "\(path)")
                #expect(try await Self.get(base + path, token: token).status == 200, "\(path)")
            }
            let served = try await Self.get(base + "/api/status", token: token).body
            let printed = try await cli.expectSuccess(["status", "--json"]).stdout
            // The same document, but for the ages, which move with the clock.
            func shape(_ text: String) throws -> [JSONValue] {
                guard case .array(let apps)? = JSONValue.parse(text) else {
                    throw RotorError(.io, "not an array: \(text)")
                }
                return apps.map { app in
                    guard case .object(var members) = app else { return app }
                    members["secret_age_seconds"] = nil
                    return .object(members)
                }
            }
            let apps = try shape(served)
            #expect(apps == (try shape(printed)))
            #expect(apps.count == 2)
            #expect(apps.first?["app"] == "billing")
            let page = try await Self.get(base + "/", token: token).body
            #expect(page.contains("id=\"app-crm\""))
            #expect(!page.contains("crm-secret-never-shown"))
            #expect(!page.contains(sandbox.application.clientSecret))
            daemon.kill(SIGTERM)
            #expect(await daemon.wait().status == 0)
        }
    }

    @Test(arguments: [("", 0o600, "is empty"), ("t0ken", 0o644, "readable by every user")])
    func aBadTokenFileIsRefusedBeforeAnythingStarts(text: String, mode: Int, message: String) async throws {
        let cli = CLIHarness()
        try await cli.initialize()
        try cli.directory.write("listen.token", text, mode: mode)
        let result = try await cli.run([
            "run", "--listen", "127.0.0.1:1", "--listen-token-file", cli.directory.file("listen.token"),
        ])
        #expect(result.status == 64, "\(result)")
        #expect(result.errorLines.count == 1 && result.stderr.contains(message), "\(result)")
    }
}
