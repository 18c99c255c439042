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

/// Each bad key file gets one line on stderr, exit 64, and changes nothing.
struct BadKeyFileTests {
    enum Damage: String, CaseIterable {
        case missing, truncated, garbage, empty, loosePermissions, anotherDatabasesKey, directory
    }

    @Test(arguments: Damage.allCases)
    func badKeyFileChangesNothing(damage: Damage) async throws {
        let cli = CLIHarness()
        try await cli.initialize()
        try await cli.addApp("billing", secret: "s1")
        let good = try cli.directory.read("rotor.db.key")
        switch damage {
        case .missing: try FileManager.default.removeItem(atPath: cli.keyFile)
        case .truncated: try cli.directory.write("rotor.db.key", String(decoding: good.prefix(30), as: UTF8.self))
        case .garbage: try cli.directory.write("rotor.db.key", "this is not a key\n")
        case .empty: try cli.directory.write("rotor.db.key", "")
        case .loosePermissions: chmod(cli.keyFile, 0o644)
        case .anotherDatabasesKey:
            try FileManager.default.removeItem(atPath: cli.keyFile)
            try KeyFile.create(MasterKey.generate(), at: cli.keyFile)
        case .directory:
            try FileManager.default.removeItem(atPath: cli.keyFile)
            try FileManager.default.createDirectory(atPath: cli.keyFile, withIntermediateDirectories: false)
        }
        let before = fileDigest(cli.db)
        for arguments in [["app", "list"], ["secret", "show", "billing"], ["key", "rotate"], ["init"]] {
            let result = try await cli.run(arguments)
            #expect(result.status == 64, "\(arguments): \(result)")
            #expect(result.errorLines.count == 1, "\(arguments): \(result)")
            #expect(result.stderr.hasPrefix("rotor: "))
            #expect(!result.stderr.contains("s1"))
            #expect(result.stdout.isEmpty)
        }
        #expect(fileDigest(cli.db) == before)
        if damage == .anotherDatabasesKey {
            #expect(try await cli.run(["app", "list"]).stderr.contains("does not belong to this database"))
        }
    }
}

struct BadDatabaseTests {
    @Test func aFileThatIsNotSQLiteIsRefusedUnchanged() async throws {
        let cli = CLIHarness()
        try cli.directory.write("rotor.db", String(repeating: "not a database at all\n", count: 200))
        try KeyFile.create(MasterKey.generate(), at: cli.keyFile)
        let before = fileDigest(cli.db)
        for arguments in [["init"], ["app", "list"]] {
            let result = try await cli.run(arguments)
            #expect(result.status == 64, "\(result)")
            #expect(result.errorLines == ["rotor: \(cli.db) is not a Rotor database (not an SQLite file); check --db"])
        }
        #expect(fileDigest(cli.db) == before)
        #expect(!FileManager.default.fileExists(atPath: cli.db + "-wal"))
    }

    @Test func aDatabaseFromANewerRotorIsRefusedUnchanged() async throws {
        let cli = CLIHarness()
        try await cli.initialize()
        try await cli.addApp("billing", secret: "s1")
        do {
            let store = try SQLiteStore.open(path: cli.db)
            try store.withConnection {
                try $0.execute(
                    sql:
                        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 'x')"
                )
            }
        }
        let before = fileDigest(cli.db)
        let result = try await cli.run(["app", "list"])
        #expect(result.status == 64)
        #expect(result.errorLines.count == 1)
        #expect(result.stderr.contains("newer than this rotor"))
        #expect(fileDigest(cli.db) == before)
    }

    @Test func aReadOnlyDirectoryGivesOneClearLine() async throws {
        let cli = CLIHarness()
        try await cli.initialize()
        try await cli.addApp("billing", secret: "s1")
        var rotor = cli.rotor
        if geteuid() == 0 {
            // root writes anywhere: run as nobody, owning the files but not the directory.
            let binary = cli.directory.file("rotor-bin")
            try FileManager.default.copyItem(atPath: RotorProcess.binary, toPath: binary)
            for path in [cli.db, cli.keyFile] { chown(path, 65534, 65534) }
            rotor.executable = binary
            rotor.prefix = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        } else {
            chmod(cli.directory.path, 0o555)
        }
        defer { chmod(cli.directory.path, 0o755) }
        let before = fileDigest(cli.db)
        let list = try await rotor.run(["app", "list"])
        #expect(list.status == 1, "\(list)")
        #expect(list.errorLines.count == 1, "\(list)")
        #expect(list.stderr.contains("writable"))
        let fresh = try await rotor.run(["init", "--db", cli.directory.file("new.db")])
        #expect(fresh.status == 1, "\(fresh)")
        #expect(fresh.errorLines.count == 1)
        #expect(fileDigest(cli.db) == before)
    }
}
