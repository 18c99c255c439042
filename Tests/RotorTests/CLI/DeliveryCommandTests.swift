import Foundation
import GRDB
import RotorCore
import RotorSQLite
import RotorTesting
import Testing
import VitaleraSandbox

/// Targets, publish and alerts through the binary: real files, real hooks,
/// the sandbox vendor on a loopback port.
struct DeliveryCommandTests {
    func withApp(survive: Bool = true, _ body: (CLIHarness, SandboxFixture) async throws -> Void) async throws {
        try await withSandbox(settings: SandboxSettings(tokensSurviveRotation: survive)) { sandbox in
            let cli = CLIHarness()
            try await cli.initialize()
            try await cli.addApp("billing", from: sandbox)
            try await body(cli, sandbox)
        }
    }

    @Test func aRotationDeliversEveryFormatAndAHook() async throws {
        try await withApp { cli, sandbox in
            let dir = cli.directory
            try await cli.expectSuccess(["target", "add", "billing", "--file", dir.file("creds.env")])
            try await cli.expectSuccess([
                "target", "add", "billing", "--file", dir.file("creds.json"), "--format", "json", "--mode", "640",
            ])
            try await cli.expectSuccess(["target", "add", "billing", "--file", dir.file("secret"), "--format", "raw"])
            try await cli.expectSuccess(
                ["target", "add", "billing", "--exec", "cat > \(dir.file("hook.json")); env > \(dir.file("hook.env"))"])
            let rotated = try await cli.run(["rotate", "billing"])
            #expect(rotated.status == 0, "\(rotated)")
            let vendor = await sandbox.currentPair()
            let env = String(decoding: try dir.read("creds.env"), as: UTF8.self)
            #expect(
                env
                    == "VITALERA_APPLICATION_ID=\(sandbox.application.id)\nVITALERA_CLIENT_ID=\(vendor.clientID)\nVITALERA_CLIENT_SECRET=\(vendor.clientSecret)\n"
            )
            #expect(String(decoding: try dir.read("secret"), as: UTF8.self) == vendor.clientSecret)
            guard case .object(let json)? = JSONValue.parse(String(decoding: try dir.read("creds.json"), as: UTF8.self))
            else {
                Issue.record("creds.json is not JSON")
                return
            }
            #expect(json["client_secret"] == .string(vendor.clientSecret))
            #expect(json["version"] == 2)
            #expect(Files.mode(dir.file("creds.env")) == 0o600)
            #expect(Files.mode(dir.file("creds.json")) == 0o640)
            #expect(try dir.read("hook.json") == dir.read("creds.json"))
            let hookEnv = String(decoding: try dir.read("hook.env"), as: UTF8.self)
            #expect(hookEnv.contains("ROTOR_APP=billing"))
            #expect(hookEnv.contains("ROTOR_VERSION=2"))
            #expect(hookEnv.contains("ROTOR_ROTATION_ID=1"))
            #expect(!hookEnv.contains(vendor.clientSecret))
            let list = try await cli.expectSuccess(["target", "list", "billing", "--json"]).stdout
            #expect(list.components(separatedBy: "\"state\":\"delivered\"").count == 5)
        }
    }

    @Test func aFailingHookLeavesTheRotationPendingUntilItIsFixed() async throws {
        try await withApp { cli, _ in
            let flag = cli.directory.file("fixed")
            try await cli.expectSuccess(["target", "add", "billing", "--exec", "test -e \(flag)"])
            let rotated = try await cli.run(["rotate", "billing"])
            #expect(rotated.status == 3, "\(rotated)")
            #expect(rotated.stderr.contains("delivery"))
            #expect(try await cli.run(["run", "--once"]).status == 3)
            // Rotor keeps retrying: `status` says so with the reason, and exits 3 as a check.
            let pending = try await cli.run(["status", "--json"])
            #expect(pending.status == 3, "\(pending)")
            #expect(pending.stdout.contains("\"health\":\"retrying\""))
            #expect(pending.stdout.contains("\"pending_deliveries\":1"))
            #expect(pending.stdout.contains("hook exited with status 1"), "\(pending.stdout)")
            let table = try await cli.run(["status"])
            #expect(table.status == 3)
            #expect(table.stdout.contains("retrying"))
            #expect(table.stdout.contains("rotor target list billing"))
            try cli.directory.write("fixed", "")
            let publish = try await cli.run(["publish", "billing"])
            #expect(publish.status == 0, "\(publish)")
            #expect(try await cli.run(["run", "--once"]).status == 0)
            #expect(try await cli.expectSuccess(["status", "--json"]).stdout.contains("\"health\":\"ok\""))
            let history = try await cli.expectSuccess(["history", "--json"]).stdout
            #expect(history.contains("\"state\":\"completed\""))
        }
    }

    @Test func aVanishedTargetDirectoryIsReportedAndRetried() async throws {
        try await withApp { cli, _ in
            let sub = cli.directory.file("deploy")
            try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: false)
            try await cli.expectSuccess(["target", "add", "billing", "--file", "\(sub)/creds.env"])
            try FileManager.default.removeItem(atPath: sub)
            let rotated = try await cli.run(["rotate", "billing"])
            #expect(rotated.status == 3)
            let list = try await cli.expectSuccess(["target", "list", "billing"]).stdout
            #expect(list.contains("does not exist"))
            try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: false)
            // The failed delivery waits out its backoff (30 s with full jitter: it may be short), even
            // for `run --once`; `publish` delivers now.
            let listed = try await cli.expectSuccess(["target", "list", "billing", "--json"]).stdout
            let targets = try #require(try JSONSerialization.jsonObject(with: Data(listed.utf8)) as? [[String: Any]])
            let nextText = try #require(targets.first?["next_attempt"] as? String, "\(listed)")
            let nextAttempt = try #require(RFC3339.parse(nextText))
            let started = Date()
            let once = try await cli.run(["run", "--once"])
            if Date() < nextAttempt {
                #expect(once.status == 3, "\(once)")
                #expect(!FileManager.default.fileExists(atPath: "\(sub)/creds.env"))
            } else if started >= nextAttempt {
                #expect(once.status == 0, "\(once)")  // the backoff had ended: retried
            } else {
                // The backoff ended while `run --once` ran: retried or not, depending on when it looked.
                #expect(once.status == 0 || once.status == 3, "\(once)")
            }
            #expect(try await cli.run(["publish", "billing"]).status == 0)
            #expect(FileManager.default.fileExists(atPath: "\(sub)/creds.env"))
            #expect(try await cli.run(["run", "--once"]).status == 0)
        }
    }

    @Test func theSecretIsNeverInAHooksArgumentsAndInItsEnvironmentOnlyWithEnv() async throws {
        try await withApp { cli, sandbox in
            let dir = cli.directory
            try await cli.expectSuccess(
                ["target", "add", "billing", "--exec", "echo $$ > \(dir.file("plain.pid")); sleep 2; cat > /dev/null"])
            try await cli.expectSuccess(
                [
                    "target", "add", "billing", "--env", "--exec",
                    "echo $$ > \(dir.file("env.pid")); sleep 2; cat > /dev/null",
                ])
            let running = try cli.rotor.start(["rotate", "billing"])
            var seen: [String: (cmdline: String, environ: String)] = [:]
            let deadline = Date().addingTimeInterval(20)
            while seen.count < 2, Date() < deadline {
                for name in ["plain", "env"] where seen[name] == nil {
                    guard let text = try? String(contentsOfFile: dir.file("\(name).pid"), encoding: .utf8),
                        let pid = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
                    else { continue }
                    let cmdline = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))) ?? Data()
                    let environ = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/environ"))) ?? Data()
                    seen[name] = (String(decoding: cmdline, as: UTF8.self), String(decoding: environ, as: UTF8.self))
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            let result = await running.wait()
            #expect(result.status == 0, "\(result)")
            let secret = await sandbox.currentPair().clientSecret
            #expect(seen.count == 2)
            #expect(seen["plain"]?.cmdline.contains("sleep") == true)
            #expect(seen["plain"]?.cmdline.contains(secret) == false)
            #expect(seen["env"]?.cmdline.contains(secret) == false)
            #expect(seen["plain"]?.environ.contains(secret) == false)
            #expect(seen["env"]?.environ.contains("ROTOR_CLIENT_SECRET=\(secret)") == true)
        }
    }

    @Test func killedDuringAHookTheNextRunDelivers() async throws {
        try await withApp { cli, sandbox in
            let dir = cli.directory
            try await cli.expectSuccess(
                [
                    "target", "add", "billing", "--exec",
                    // Long enough for the kill below to land on a busy machine while the hook runs.
                    "echo $$ > \(dir.file("pid")); sleep 3; cat > \(dir.file("out.json"))",
                ])
            let running = try cli.rotor.start(["rotate", "billing"])
            let deadline = Date().addingTimeInterval(20)
            while !FileManager.default.fileExists(atPath: dir.file("pid")), Date() < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            running.kill(SIGKILL)
            #expect(await running.wait().signal == SIGKILL)
            try? FileManager.default.removeItem(atPath: dir.file("out.json"))
            let resolved = try await cli.run(["run", "--once"])
            #expect(resolved.status == 0, "\(resolved)")
            let vendor = await sandbox.currentPair()
            #expect(String(decoding: try dir.read("out.json"), as: UTF8.self).contains(vendor.clientSecret))
        }
    }

    @Test func killedBeforeTheRenameLeavesNoTemporaryFileAfterRecovery() async throws {
        try await withApp { cli, sandbox in
            let sub = cli.directory.file("deploy")
            try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: false)
            try await cli.expectSuccess(["target", "add", "billing", "--file", "\(sub)/creds.env"])
            var crashing = cli.rotor
            crashing.environment["ROTOR_FAILPOINTS"] = "deliver.before-rename"
            #expect(try await crashing.run(["rotate", "billing"]).signal == SIGKILL)
            #expect(try FileManager.default.contentsOfDirectory(atPath: sub).count == 1)  // the temporary file
            #expect(try await cli.run(["run", "--once"]).status == 0)
            #expect(try FileManager.default.contentsOfDirectory(atPath: sub) == ["creds.env"])
            let vendor = await sandbox.currentPair()
            #expect(
                String(decoding: try Data(contentsOf: URL(fileURLWithPath: "\(sub)/creds.env")), as: UTF8.self)
                    .contains(vendor.clientSecret))
        }
    }

    @Test func aSymlinkedTargetIsRefused() async throws {
        try await withApp { cli, sandbox in
            try cli.directory.write("real.env", "untouched")
            symlink(cli.directory.file("real.env"), cli.directory.file("link.env"))
            try await cli.expectSuccess(["target", "add", "billing", "--file", cli.directory.file("link.env")])
            #expect(try await cli.run(["rotate", "billing"]).status == 3)
            #expect(String(decoding: try cli.directory.read("real.env"), as: UTF8.self) == "untouched")
            let dry = try await cli.run(["rotate", "billing", "--dry-run"])
            #expect(dry.status == 1)
            #expect(dry.stdout.contains("symlink"))
            _ = sandbox
        }
    }

    @Test func alertsRunWhenDeliveryKeepsFailingAndCarryNoSecret() async throws {
        try await withApp { cli, sandbox in
            let dir = cli.directory
            try await cli.expectSuccess(["alert", "add", "--exec", "cat >> \(dir.file("alerts.jsonl"))"])
            try await cli.expectSuccess(["target", "add", "billing", "--exec", "exit 1"])
            _ = try await cli.run(["rotate", "billing"])
            // Attempts 2 to 5 by hand (`run` would wait out the backoff between them); then one alert, once.
            for _ in 0..<5 { _ = try await cli.run(["publish", "billing"]) }
            let alerts = String(decoding: try dir.read("alerts.jsonl"), as: UTF8.self)
            let lines = alerts.split(separator: "\n")
            #expect(lines.count == 1, "\(alerts)")
            #expect(alerts.contains("\"event\":\"delivery.failed\""))
            #expect(alerts.contains("\"app\":\"billing\""))
            #expect(!alerts.contains(await sandbox.currentPair().clientSecret))
            let listed = try await cli.expectSuccess(["alert", "list", "--json"]).stdout
            #expect(listed.contains("alerts.jsonl"))
            try await cli.expectSuccess(["alert", "remove", "1"])
        }
    }

    @Test func aLostRotationRunsTheAlertHooks() async throws {
        try await withApp(survive: false) { cli, sandbox in
            try await cli.expectSuccess(["alert", "add", "--exec", "cat > \(cli.directory.file("alert.json"))"])
            await sandbox.vendor.inject(SandboxFault(endpoint: .rotate, afterCommit: .drop))
            #expect(try await cli.run(["rotate", "billing"]).status == 4)
            let status = try await cli.run(["status", "--json"])
            #expect(status.status == 4)
            #expect(status.stdout.contains("\"health\":\"needs-action\""))
            #expect(status.stdout.contains("rotor app set billing --client-id"))
            let alert = String(decoding: try cli.directory.read("alert.json"), as: UTF8.self)
            #expect(alert.contains("\"event\":\"rotation.lost\""))
            #expect(alert.contains("\"rotation_id\":1"))
            #expect(alert.contains("\"severity\":\"critical\""))
            #expect(alert.contains("\"host\":\"\(ProcessInfo.processInfo.hostName)\""))
            #expect(alert.contains("\"message\":\"") && alert.contains("rotor app set billing"), "\(alert)")
        }
    }

    @Test func alertsRunOnTheEventsTheyWereAddedFor() async throws {
        try await withApp { cli, sandbox in
            let dir = cli.directory
            try await cli.expectSuccess([
                "alert", "add", "--on", "completed", "--exec", "cat >> \(dir.file("completed.jsonl"))",
            ])
            try await cli.expectSuccess(["alert", "add", "--exec", "cat >> \(dir.file("default.jsonl"))"])
            let bad = try await cli.run(["alert", "add", "--on", "completed,sometimes", "--exec", "true"])
            #expect(bad.status == 64 && bad.stderr.contains("sometimes"), "\(bad)")
            #expect(try await cli.run(["rotate", "billing"]).status == 0)
            let completed = String(decoding: try dir.read("completed.jsonl"), as: UTF8.self)
            #expect(completed.split(separator: "\n").count == 1, "\(completed)")
            let document = try #require(JSONValue.parse(completed))
            #expect(document["event"] == "rotation.completed" && document["severity"] == "info")
            #expect(document["state"] == "completed" && document["app"] == "billing")
            #expect(document["message"].map { "\($0)".contains("rotated billing") } == true, "\(completed)")
            #expect(!completed.contains(await sandbox.currentPair().clientSecret))
            // The default hook is not run for a success.
            #expect(!FileManager.default.fileExists(atPath: dir.file("default.jsonl")))
            let listed = try await cli.expectSuccess(["alert", "list"]).stdout
            #expect(listed.contains("completed") && listed.contains("failed,lost,needs_action"), "\(listed)")
        }
    }

    @Test func targetsAreAddedListedAndRemovedWithAuditEvents() async throws {
        try await withApp { cli, _ in
            try await cli.expectSuccess(["target", "add", "billing", "--file", cli.directory.file("a.env")])
            #expect(try await cli.run(["target", "add", "billing", "--file", "x", "--exec", "true"]).status == 64)
            #expect(try await cli.run(["target", "add", "billing", "--file", "x", "--mode", "999"]).status == 64)
            #expect(try await cli.run(["target", "add", "billing", "--exec", "true", "--timeout", "0s"]).status == 64)
            #expect(try await cli.run(["target", "remove", "billing", "7"]).status == 64)
            try await cli.expectSuccess(["target", "remove", "billing", "1"])
            let store = try SQLiteStore.open(path: cli.db)
            let actions = try store.withConnection {
                try String.fetchAll($0, sql: "SELECT action FROM audit_events WHERE action LIKE 'target.%' ORDER BY id")
            }
            #expect(actions == ["target.added", "target.removed"])
        }
    }
}
