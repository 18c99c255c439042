import AsyncHTTPClient
import Foundation
import GRDB
import RotorCore
import RotorSQLite
import RotorTesting
import Testing
import VitaleraSandbox

struct OpsEndpointTests {
    func get(_ url: String) async throws -> (status: Int, body: String) {
        try await HTTPClient.withHTTPClient { client in
            let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(5))
            let body = try await response.body.collect(upTo: 1 << 20)
            return (Int(response.status.code), String(buffer: body))
        }
    }

    @Test func healthzAndMetrics() async throws {
        try await withSandbox(settings: SandboxSettings(tokensSurviveRotation: false)) { sandbox in
            let cli = CLIHarness()
            try await cli.initialize()
            try await cli.addApp("billing", from: sandbox)
            #expect(try await cli.run(["rotate", "billing"]).status == 0)
            let port = Int.random(in: 20000...40000)
            let daemon = try cli.rotor.start(["run", "--listen", "127.0.0.1:\(port)"])
            var health: (status: Int, body: String)?
            for _ in 0..<100 where health == nil {
                health = try? await get("http://127.0.0.1:\(port)/healthz")
                if health == nil { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(health?.status == 200)
            #expect(health?.body == "{\"status\":\"ok\"}\n")
            let metrics = try await get("http://127.0.0.1:\(port)/metrics").body
            #expect(metrics.contains("rotor_secret_age_seconds{app=\"billing\"}"))
            #expect(metrics.contains("rotor_next_due_timestamp_seconds{app=\"billing\"}"))
            #expect(metrics.contains("rotor_lost_apps 0"))
            // A lost rotation needs a person, not a restart: the daemon stays healthy, the metrics say it.
            await sandbox.vendor.inject(SandboxFault(endpoint: .rotate, afterCommit: .drop))
            #expect(try await cli.run(["rotate", "billing"]).status == 4)
            let stillHealthy = try await get("http://127.0.0.1:\(port)/healthz")
            #expect(stillHealthy.status == 200)
            let after = try await get("http://127.0.0.1:\(port)/metrics").body
            #expect(after.contains("rotor_lost_apps 1"))
            #expect(after.contains("rotor_app_needs_action{app=\"billing\"} 1"), "\(after)")
            daemon.kill(SIGTERM)
            #expect(await daemon.wait().status == 0)
        }
    }
}
