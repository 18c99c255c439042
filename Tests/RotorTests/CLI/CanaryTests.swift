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
