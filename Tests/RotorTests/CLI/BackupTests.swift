import Foundation
import RotorCore
import RotorTesting
import Testing

struct BackupTests {
    @Test func aBackupRestoresEverySecretAndTheAuditChain() async throws {
        let cli = CLIHarness()
        try await cli.initialize()
        for index in 0..<3 { try await cli.addApp("app\(index)", secret: "secret-\(index)") }
        let copy = cli.directory.file("backup.db")
        let result = try await cli.expectSuccess(["backup", copy])
        #expect(result.stdout.contains("consistent copy"))
        #expect(Files.mode(copy) == 0o600)
        #expect(try await cli.run(["backup", copy]).status == 64)  // never overwrites

        // Changes after the backup are not in it.
        try await cli.expectSuccess(["app", "remove", "app0"])
        // Restore: the copy in place of the database, the same key file beside it.
        let restored = TemporaryDirectory()
        try FileManager.default.copyItem(atPath: copy, toPath: restored.file("rotor.db"))
        try FileManager.default.copyItem(atPath: cli.keyFile, toPath: restored.file("rotor.db.key"))
        let rotor = RotorProcess(directory: restored.path)
        let list = try await rotor.run(["app", "list", "--json"])
        #expect(list.status == 0, "\(list)")
        #expect(list.stdout.contains("\"name\":\"app0\""))
        for index in 0..<3 {
            #expect(try await rotor.run(["secret", "show", "app\(index)"]).stdout.contains("secret-\(index)"))
        }
        #expect(try await rotor.run(["audit", "verify"]).status == 0)
    }
}
