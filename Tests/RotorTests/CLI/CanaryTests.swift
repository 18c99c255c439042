import Foundation
import GRDB
import RotorCore
import RotorSQLite
import RotorTesting
import Testing
import VitaleraSandbox

/// A canary secret goes in through every door; it must come out only where
/// it is asked for (`secret show`) and nowhere else: not in the database
/// files, not in any other output, not in any audit event.
struct CanaryTests {
    @Test func noPlaintextSecretAnywhere() async throws {
        let canaries = ["CANARY-\(UUID().uuidString)", "CANARY-\(UUID().uuidString)", "CANARY-\(UUID().uuidString)"]
        let cli = CLIHarness()
        try await cli.initialize()
        // Keep a connection open so that the -wal and -shm files stay on disk to be searched.
        let holder = try SQLiteStore.open(path: cli.db)
        var outputs: [RotorProcess.Result] = []
        outputs.append(try await cli.addApp("one", secret: canaries[0], extra: ["--every", "1d"]))
        try cli.directory.write("s.txt", canaries[1] + "\n")
        outputs.append(
            try await cli.expectSuccess(
                [
                    "app", "add", "two", "--application-id", "a2", "--client-id", "c2", "--client-secret-file",
                    cli.directory.file("s.txt"), "--no-verify",
                ]))
        try FileManager.default.removeItem(atPath: cli.directory.file("s.txt"))
        outputs.append(
            try await cli.expectSuccess(
                ["app", "set", "one", "--client-id", "c1b", "--client-secret-stdin", "--no-verify"],
                stdin: canaries[2] + "\n"))
        outputs.append(try await cli.expectSuccess(["key", "rotate"]))
        for arguments in [
            ["app", "list"], ["app", "list", "--json"], ["app", "show", "one"], ["app", "show", "two", "--json"],
        ] {
            outputs.append(try await cli.expectSuccess(arguments))
        }
        // Failures that involve a secret must not echo it either.
        outputs.append(
            try await cli.run(
                [
                    "app", "add", "three", "--application-id", "a", "--client-id", "c", "--client-secret-stdin",
                    "--no-verify",
                ], stdin: canaries[0] + "\nmore\n"))

        let files = try FileManager.default.contentsOfDirectory(atPath: cli.directory.path)
        #expect(files.contains("rotor.db-wal"))
        for file in files {
            let bytes = try cli.directory.read(file)
            for canary in canaries {
                #expect(bytes.range(of: Data(canary.utf8)) == nil, "\(canary) found in \(file)")
            }
        }
        for output in outputs {
            for canary in canaries {
                #expect(!output.stdout.contains(canary) && !output.stderr.contains(canary), "leaked: \(output)")
            }
        }
        let events = try holder.withConnection {
            try String.fetchAll($0, sql: "SELECT actor || action || coalesce(app,'') || detail FROM audit_events")
        }
        #expect(events.count >= 4)
        for event in events {
            for canary in canaries { #expect(!event.contains(canary)) }
        }
        // The explicit reveal still works, so the canaries were really stored.
        #expect(try await cli.expectSuccess(["secret", "show", "one"]).stdout.contains(canaries[2]))
        #expect(try await cli.expectSuccess(["secret", "show", "two"]).stdout.contains(canaries[1]))
    }
}

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
                try await cli.expectSuccess(
                    [
                        "app", "add", "billing", "--application-id", sandbox.application.id, "--client-id",
                        sandbox.application.clientID, "--client-secret-stdin", "--api-url", sandbox.url,
                    ],
                    stdin: sandbox.application.clientSecret + "\n"))
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
