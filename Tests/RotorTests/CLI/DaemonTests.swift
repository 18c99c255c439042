import AsyncHTTPClient
import Foundation
import GRDB
import RotorCore
import RotorSQLite
import RotorTesting
import Testing
import VitaleraSandbox

/// `rotor run` as a long-running process, in real time.
struct DaemonTests {
    func withScheduledApp(every: String = "3s", _ body: (CLIHarness, SandboxFixture) async throws -> Void) async throws
    {
        try await withSandbox { sandbox in
            let cli = CLIHarness()
            try await cli.initialize()
            try await cli.addApp("billing", from: sandbox, extra: ["--every", every])
            try await body(cli, sandbox)
        }
    }

    func rotations(_ cli: CLIHarness) throws -> [(state: String, due: Int64?)] {
        let store = try SQLiteStore.open(path: cli.db)
        return try store.withConnection { db in
            try Row.fetchAll(db, sql: "SELECT state, occurrence_due FROM rotations ORDER BY id").map { ($0[0], $0[1]) }
        }
    }

    func expectInSync(_ cli: CLIHarness, _ sandbox: SandboxFixture) async throws {
        let shown = try await cli.expectSuccess(["secret", "show", "billing", "--json"]).stdout
        #expect(shown.contains(await sandbox.currentPair().clientSecret))
    }

    @Test func aThreeSecondScheduleRotatesAgainAndAgain() async throws {
        try await withScheduledApp { cli, sandbox in
            let started = Date()
            let daemon = try cli.rotor.start(["run", "--log-format", "json"])
            // Until two rotations have ended (a generous guard, not a measurement: a busy machine is slow to start).
            while try rotations(cli).count < 2, Date().timeIntervalSince(started) < 90 {
                try await Task.sleep(for: .milliseconds(500))
            }
            daemon.kill(SIGTERM)
            let result = await daemon.wait()
            #expect(result.status == 0, "\(result)")
            let done = try rotations(cli)
            // Again and again, and never faster than the schedule: at most one rotation per 3 s, plus the first.
            let elapsed = Date().timeIntervalSince(started)
            #expect(done.count >= 2 && done.count <= Int(elapsed / 3) + 1, "\(done) in \(elapsed) s")
            #expect(done.allSatisfy { $0.state == "completed" })
            #expect(await sandbox.vendor.application(sandbox.application.id)?.rotations == done.count)
            try await expectInSync(cli, sandbox)
            // Structured logs, one JSON object per line, with the actor of the daemon's events.
            #expect(result.stderr.split(separator: "\n").allSatisfy { JSONValue.parse(String($0)) != nil })
            let audit = try await cli.expectSuccess(["audit", "--action", "rotation.started", "--format", "jsonl"])
                .stdout
            #expect(audit.contains("\"actor\":\"scheduler\""))
            // On SQLite `rotor status` stays one line per app after a daemon recorded its node.
            let status = try await cli.run(["status"]).stdout
            #expect(status.split(separator: "\n").count == 2, "\(status)")
        }
    }

    @Test func SIGTERMDuringARotationFinishesItThenExits() async throws {
        try await withScheduledApp { cli, sandbox in
            await sandbox.vendor.inject(SandboxFault(endpoint: .rotate, latencyMS: 2000))
            let daemon = try cli.rotor.start(["run"])
            let vendor = sandbox.vendor
            while await vendor.requestCount(.rotate) == 0 { try await Task.sleep(for: .milliseconds(20)) }
            daemon.kill(SIGTERM)
            let result = await daemon.wait()
            #expect(result.status == 0, "\(result)")
            #expect(try rotations(cli).map(\.state) == ["completed"])
            try await expectInSync(cli, sandbox)
        }
    }

    @Test func aSecondSignalExitsAtOnceAndTheNextRunRecovers() async throws {
        try await withScheduledApp { cli, sandbox in
            await sandbox.vendor.inject(
                SandboxFault(endpoint: .rotate, afterCommit: .delay, delayAfterCommitMS: 30_000))
            let daemon = try cli.rotor.start(["run"])
            let vendor = sandbox.vendor
            let appID = sandbox.application.id
            while await vendor.application(appID)?.rotations == 0 { try await Task.sleep(for: .milliseconds(20)) }
            let start = Date()
            daemon.kill(SIGTERM)
            try await Task.sleep(for: .milliseconds(300))
            daemon.kill(SIGTERM)
            let result = await daemon.wait()
            // Well before the vendor's answer, 30 s away (a generous guard).
            #expect(Date().timeIntervalSince(start) < 20)
            #expect(result.status == 1, "\(result)")
            #expect(try rotations(cli).map(\.state) == ["requesting"])
            await vendor.clearFaults()
            let resolved = try await cli.run(["run", "--once"])
            #expect(resolved.status == 0, "\(resolved)")
            try await expectInSync(cli, sandbox)
        }
    }

    @Test func twoDaemonsOnOneDatabaseNeverRotateTwiceForOneDueTime() async throws {
        try await withScheduledApp(every: "2s") { cli, sandbox in
            let first = try cli.rotor.start(["run"])
            let second = try cli.rotor.start(["run"])
            // Until both have had a few due times to race for (polled, with a generous guard).
            for _ in 0..<240 where try rotations(cli).filter({ $0.state == "completed" }).count < 3 {
                try await Task.sleep(for: .milliseconds(500))
            }
            first.kill(SIGTERM)
            second.kill(SIGTERM)
            #expect(await first.wait().status == 0)
            #expect(await second.wait().status == 0)
            let done = try rotations(cli)
            #expect(done.count >= 2, "\(done)")
            #expect(Set(done.compactMap(\.due)).count == done.count)
            #expect(await sandbox.vendor.application(sandbox.application.id)?.rotations == done.count)
            try await expectInSync(cli, sandbox)
        }
    }
}
