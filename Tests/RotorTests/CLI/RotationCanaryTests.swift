import Foundation
import GRDB
import RotorCore
import RotorSQLite
import RotorTesting
import Testing
import VitaleraSandbox

/// Through a whole rotation: neither the old nor the new secret appears in
/// the database files, any command's output or any audit event.
struct RotationCanaryTests {
    @Test func rotatedSecretsStayOutOfEverything() async throws {
        try await withSandbox { sandbox in
            let cli = CLIHarness()
            try await cli.initialize()
            let holder = try SQLiteStore.open(path: cli.db)
            var outputs: [RotorProcess.Result] = []
            outputs.append(
                try await cli.addApp("billing", from: sandbox))
            outputs.append(try await cli.expectSuccess(["target", "add", "billing", "--exec", "cat > /dev/null"]))
            outputs.append(try await cli.expectSuccess(["rotate", "billing"]))
            await sandbox.vendor.inject(SandboxFault(endpoint: .rotate, afterCommit: .garbage))
            outputs.append(try await cli.expectSuccess(["rotate", "billing"]))  // recovered
            for arguments in [
                ["run", "--once"], ["history", "--json"], ["app", "show", "billing", "--json"], ["app", "list"],
                ["target", "list", "billing", "--json"], ["publish", "billing"], ["rotate", "billing", "--dry-run"],
            ] {
                outputs.append(try await cli.expectSuccess(arguments))
            }
            let secrets = [sandbox.application.clientSecret, await sandbox.currentPair().clientSecret]
            for file in try FileManager.default.contentsOfDirectory(atPath: cli.directory.path) {
                let bytes = try cli.directory.read(file)
                for secret in secrets { #expect(bytes.range(of: Data(secret.utf8)) == nil, "in \(file)") }
            }
            for output in outputs {
                for secret in secrets { #expect(!output.stdout.contains(secret) && !output.stderr.contains(secret)) }
            }
            let events = try holder.withConnection { try String.fetchAll($0, sql: "SELECT detail FROM audit_events") }
            #expect(events.count > 10)
            for event in events {
                for secret in secrets { #expect(!event.contains(secret)) }
            }
        }
    }
}
