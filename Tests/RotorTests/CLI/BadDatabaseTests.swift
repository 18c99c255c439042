import Foundation
import GRDB
import RotorCore
import RotorSQLite
import RotorTesting
import Testing

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
