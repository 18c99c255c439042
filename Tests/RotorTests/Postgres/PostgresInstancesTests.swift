import Foundation
import RotorCore
import RotorTesting
import Testing
import VitaleraSandbox

/// Several `rotor run` instances on one PostgreSQL database (postgres.md,
/// "What must hold" and "Operating it"): nodes named with `--node`, seen in
/// status, the status page, the metrics and the audit actors; the database
/// lost and back while they run. (The long run with SIGKILLs and a restart
/// under load is `scripts/soak --postgres`, which `.ci/run` runs.)
@Suite(.serialized) struct PostgresInstancesTests {
    @Test func twoNodesShareTheWorkAndSayWhoTheyAre() async throws {
        try await withSandbox { sandbox in
            let cli = try await CLIHarness.on(.postgres)
            try await cli.initialize()
            try await cli.addApp("billing", from: sandbox, extra: ["--every", "3s"])
            let (a, baseA) = try await OpsEndpointTests.startDaemon(cli, ["--node", "node-a"])
            defer { a.kill(SIGKILL) }
            let (b, baseB) = try await OpsEndpointTests.startDaemon(cli, ["--node", "node-b"])
            defer { b.kill(SIGKILL) }
            // Both nodes recorded, and rotations made (by either) every few seconds.
            var status = ""
            for _ in 0..<600 {
                status = try await cli.run(["status"]).stdout
                let rotations = await sandbox.vendor.application(sandbox.application.id)?.rotations ?? 0
                if status.contains("node-a"), status.contains("node-b"), rotations >= 3 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(status.contains("NODE"), "\(status)")
            for node in ["node-a", "node-b"] {
                let line = status.split(separator: "\n").first { $0.hasPrefix(node) }.map(String.init) ?? ""
                #expect(line.contains("running"), "\(status)")
            }
            #expect((await sandbox.vendor.application(sandbox.application.id)?.rotations ?? 0) >= 3)
            let metrics = try await OpsEndpointTests.get(baseA + "/metrics").body
            #expect(metrics.contains("rotor_node_info{node=\"node-a\"} 1"), "\(metrics)")
            #expect(metrics.contains("rotor_node_last_seen_timestamp_seconds{node=\"node-b\"}"), "\(metrics)")
            let page = try await OpsEndpointTests.get(baseB + "/").body
            #expect(page.contains("<h2>Nodes</h2>") && page.contains("data-node=\"node-a\""))
            let actors = try await cli.expectSuccess(["audit", "query", "--json"]).stdout
            #expect(actors.contains("scheduler@node-a") || actors.contains("scheduler@node-b"), "\(actors)")
            a.kill(SIGTERM)
            b.kill(SIGTERM)
            #expect(await a.wait().status == 0)
            #expect(await b.wait().status == 0)
            #expect(try await cli.run(["audit", "verify"]).status == 0)
            // In sync with the vendor, whichever node did the last rotation.
            let shown = try await cli.expectSuccess(["secret", "show", "billing", "--json"]).stdout
            #expect(shown.contains(await sandbox.currentPair().clientSecret))
        }
    }

    /// A password given in the URL on the command line is overwritten in
    /// the process's arguments: `ps` does not show it while the daemon runs.
    @Test func aPasswordInTheURLLeavesTheProcessArguments() async throws {
        let database = try await SharedPostgres.shared.database()
        let cli = try await CLIHarness.on(database)
        try await cli.initialize()
        var bare = cli
        bare.rotor.environment["PGPASSWORD"] = nil
        bare.rotor.environment["ROTOR_DB"] = nil
        let daemon = try bare.rotor.start(["run", "--db", database.url, "--node", "argv"])
        defer { daemon.kill(SIGKILL) }
        var shown = ""
        for _ in 0..<300 {
            // Running and past its start: it has recorded its node.
            if try await cli.run(["status"]).stdout.contains("argv") { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let arguments = FileManager.default.contents(atPath: "/proc/\(daemon.process.processIdentifier)/cmdline")
        shown = String(decoding: arguments ?? Data(), as: UTF8.self)
        #expect(daemon.process.isRunning)
        #expect(shown.contains("postgres://rotor:") && !shown.contains(PostgresServer.password), "\(shown)")
        daemon.kill(SIGTERM)
        let result = await daemon.wait()
        #expect(result.status == 0 && !result.stderr.contains(PostgresServer.password), "\(result)")
    }

    /// Pods that start together each run `rotor init` on the shared
    /// database: one binds it, the others find it bound; the key works after.
    @Test func initsAtOnceBindTheDatabaseOnce() async throws {
        let cli = try await CLIHarness.on(.postgres)
        try await cli.expectSuccess(["key", "generate", cli.keyFile])
        let running = try (0..<4).map { _ in try cli.rotor.start(["init"]) }
        var results: [RotorProcess.Result] = []
        for process in running { results.append(await process.wait()) }
        #expect(results.allSatisfy { $0.status == 0 }, "\(results)")
        #expect(results.filter { $0.stdout.contains("Initialised") }.count == 1, "\(results)")
        try await cli.addApp("billing", secret: "init-canary-secret")
        let shown = try await cli.expectSuccess(["secret", "show", "billing", "--field", "client_secret"])
        #expect(shown.stdout == "init-canary-secret\n")
        #expect(try await cli.run(["audit", "verify"]).status == 0)
    }

    @Test func aNodeNameIsCheckedInOneLine() async throws {
        let cli = try await CLIHarness.on(.postgres)
        try await cli.initialize()
        for name in ["a/b", "", String(repeating: "x", count: 65), "naïve"] {
            let result = try await cli.run(["status", "--node", name])
            #expect(result.status == 64 && result.errorLines.count == 1, "\(result)")
            #expect(result.stderr.contains("is not a node name"), "\(result)")
        }
    }

    /// The database stops under a running daemon: `/healthz` says 503 and
    /// the daemon keeps running; started again, the daemon goes on by
    /// itself and rotates.
    @Test func aDaemonWaitsOutALostDatabase() async throws {
        let server = try await PostgresServer.start()
        let database = try await SharedPostgres.Database.create(on: server)
        try await withSandbox { sandbox in
            let cli = try await CLIHarness.on(database)
            try await cli.initialize()
            try await cli.addApp("billing", from: sandbox, extra: ["--every", "2s"])
            let (daemon, base) = try await OpsEndpointTests.startDaemon(cli, ["--node", "lonely"])
            defer { daemon.kill(SIGKILL) }
            try await server.stop()
            var health = 0
            for _ in 0..<600 where health != 503 {
                health = try await OpsEndpointTests.get(base + "/healthz").status
                if health != 503 { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(health == 503)
            #expect(daemon.process.isRunning)
            let before = await sandbox.vendor.application(sandbox.application.id)?.rotations ?? 0
            try await server.restart()
            var after = before
            for _ in 0..<900 where after < before + 2 {
                try await Task.sleep(for: .milliseconds(100))
                after = await sandbox.vendor.application(sandbox.application.id)?.rotations ?? 0
            }
            #expect(after >= before + 2, "no rotation after the database came back")
            #expect(try await OpsEndpointTests.get(base + "/healthz").status == 200)
            daemon.kill(SIGTERM)
            let result = await daemon.wait()
            #expect(result.status == 0, "\(result)")
            #expect(!result.stderr.contains(PostgresServer.password))
            let shown = try await cli.expectSuccess(["secret", "show", "billing", "--json"]).stdout
            #expect(shown.contains(await sandbox.currentPair().clientSecret))
            #expect(try await cli.run(["audit", "verify"]).status == 0)
        }
        try await server.stop()
    }
}
