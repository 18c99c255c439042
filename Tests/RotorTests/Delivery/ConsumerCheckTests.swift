import Foundation
import RotorCore
import RotorTesting
import Testing
import VitaleraSandbox

/// Consumer checks (`target add … --check COMMAND`): after a delivery, the
/// check runs until the consumer proves it uses the new pair.
struct ConsumerCheckTests {
    func targets(_ cli: CLIHarness) async throws -> [JSONValue] {
        let listed = try await cli.expectSuccess(["target", "list", "billing", "--json"]).stdout
        guard case .array(let targets)? = JSONValue.parse(listed) else {
            throw RotorError(.io, "not a list: \(listed)")
        }
        return targets
    }

    @Test func aCheckThatPassesOnItsThirdRunConfirmsTheTarget() async throws {
        try await withSandbox { sandbox in
            let cli = CLIHarness()
            try await cli.initialize()
            try await cli.addApp("billing", from: sandbox)
            let dir = cli.directory.path
            let check =
                "n=$(cat \(dir)/count 2>/dev/null || echo 0); n=$((n+1)); echo $n > \(dir)/count; env > \(dir)/env.$n; [ $n -ge 3 ]"
            try await cli.expectSuccess([
                "target", "add", "billing", "--file", cli.directory.file("billing.env"), "--check", check,
            ])
            let rotated = try await cli.run(["rotate", "billing"])
            #expect(rotated.status == 0, "\(rotated)")
            #expect(String(decoding: try cli.directory.read("count"), as: UTF8.self) == "3\n")
            let target = try #require(try await targets(cli).first)
            #expect(target["state"] == "confirmed" && target["confirmed_at"] != .null, "\(target)")
            #expect(target["check"] == .string(check) && target["check_timeout"] == 300)
            let environment = String(decoding: try cli.directory.read("env.3"), as: UTF8.self)
            #expect(environment.contains("ROTOR_APP=billing") && environment.contains("ROTOR_VERSION=2"))
            #expect(environment.contains("ROTOR_FINGERPRINT="))
            #expect(environment.contains("ROTOR_CLIENT_ID=\(await sandbox.currentPair().clientID)"))
            let secret = await sandbox.currentPair().clientSecret
            #expect(!environment.contains(secret))
        }
    }

    @Test func aCheckThatNeverPassesFiresTheAlertsAndLeavesTheTargetDelivered() async throws {
        try await withSandbox { sandbox in
            let cli = CLIHarness()
            try await cli.initialize()
            try await cli.addApp("billing", from: sandbox)
            try await cli.expectSuccess([
                "alert", "add", "--on", "check_failed", "--exec", "cat > \(cli.directory.file("alert.json"))",
            ])
            try await cli.expectSuccess([
                "target", "add", "billing", "--file", cli.directory.file("billing.env"), "--check", "exit 9",
                "--check-timeout", "3s",
            ])
            #expect(
                try await cli.run(["target", "add", "billing", "--exec", "true", "--check-timeout", "3s"]).status == 64)
            let rotated = try await cli.run(["rotate", "billing"])
            #expect(rotated.status == 0, "\(rotated)")
            let target = try #require(try await targets(cli).first)
            #expect(target["state"] == "delivered" && target["confirmed_at"] == .null, "\(target)")
            #expect(target["check_error"] == "did not pass within 3s (it exited with status 9)", "\(target)")
            let alert = try #require(
                JSONValue.parse(String(decoding: try cli.directory.read("alert.json"), as: UTF8.self)))
            #expect(alert["event"] == "check.failed" && alert["severity"] == "warning", "\(alert)")
            #expect(alert["target"].map { "\($0)".contains("billing.env") } == true)
            // `status` says so, with the fix, and exits 3.
            let status = try await cli.run(["status", "--json"])
            #expect(status.status == 3, "\(status)")
            #expect(status.stdout.contains("\"health\":\"failed\""), "\(status)")
            #expect(status.stdout.contains("its consumer check did not pass within 3s"), "\(status)")
        }
    }
}
