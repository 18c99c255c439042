import Foundation
import GRDB
import RotorCore
import RotorSQLite
import RotorTesting
import Testing

struct InitTests {
    @Test func initCreatesPrivateFilesAndIsIdempotent() async throws {
        let cli = CLIHarness()
        let first = try await cli.initialize()
        #expect(first.stdout.contains("Created master key file"))
        #expect(Files.mode(cli.db) == 0o600)
        #expect(Files.mode(cli.keyFile) == 0o600)
        try await cli.addApp("billing", secret: "s1")
        let before = cli.snapshot()
        let second = try await cli.initialize()
        #expect(second.stdout.contains("nothing changed"))
        #expect(cli.snapshot() == before)
    }

    @Test func walAndShmFilesArePrivateToo() async throws {
        let cli = CLIHarness()
        try await cli.initialize()
        // Hold the database open so that its -wal and -shm stay on disk.
        let store = try SQLiteStore.open(path: cli.db)
        try await cli.addApp("billing", secret: "s1")
        #expect(Files.mode(cli.db + "-wal") == 0o600)
        #expect(Files.mode(cli.db + "-shm") == 0o600)
        _ = store
    }

    @Test func initUsesAnExistingKeyFileAndNeverOverwritesIt() async throws {
        let cli = CLIHarness()
        let key = MasterKey.generate()
        try KeyFile.create(key, at: cli.keyFile)
        let before = fileDigest(cli.keyFile)
        let result = try await cli.initialize()
        #expect(result.stdout.contains(key.id))
        #expect(fileDigest(cli.keyFile) == before)
    }

    @Test func commandsOtherThanInitNeverCreateADatabase() async throws {
        let cli = CLIHarness()
        let result = try await cli.run(["app", "list"])
        #expect(result.status == 64)
        #expect(result.errorLines.count == 1)
        #expect(result.stderr.contains("rotor init"))
        #expect(!FileManager.default.fileExists(atPath: cli.db))
    }

    @Test func globalOptionsAndEnvironmentPickTheFiles() async throws {
        let cli = CLIHarness()
        let custom = cli.directory.file("custom.db")
        let key = cli.directory.file("elsewhere.key")
        try await cli.expectSuccess(["init", "--db", custom, "--key-file", key])
        #expect(FileManager.default.fileExists(atPath: key))
        var env = cli.rotor
        env.environment["ROTOR_DB"] = custom
        env.environment["ROTOR_KEY_FILE"] = key
        #expect(try await env.run(["app", "list"]).status == 0)
        #expect(try await cli.run(["app", "list", "--db", custom]).status == 64)  // default key path is custom.db.key
    }
}
