import Foundation
import GRDB
import RotorCore
import RotorSQLite
import RotorTesting
import Testing

struct KeyRotateCommandTests {
    @Test func rotatingKeepsEverySecretReadable() async throws {
        let cli = CLIHarness()
        try await cli.initialize()
        for index in 0..<3 { try await cli.addApp("app\(index)", secret: "secret-\(index)") }
        let oldKey = try cli.directory.read("rotor.db.key")
        let result = try await cli.expectSuccess(["key", "rotate"])
        #expect(result.stdout.contains("re-sealed 4 secrets"))
        #expect(try cli.directory.read("rotor.db.key") != oldKey)
        #expect(Files.mode(cli.keyFile) == 0o600)
        #expect(!FileManager.default.fileExists(atPath: cli.keyFile + ".old"))
        for index in 0..<3 {
            #expect(try await cli.expectSuccess(["secret", "show", "app\(index)"]).stdout.contains("secret-\(index)"))
        }
        // A backup of the old key no longer opens the database.
        try cli.directory.write("old.key", String(decoding: oldKey, as: UTF8.self))
        let stale = try await cli.run(["app", "list", "--key-file", cli.directory.file("old.key")])
        #expect(stale.status == 64)
        #expect(stale.stderr.contains("does not belong"))
    }

    /// SIGKILL at each step of `rotor key rotate`; afterwards every secret
    /// opens with the key file that is in place, and no `.old` is left.
    @Test(arguments: [
        "key-rotate.before-swap", "key-rotate.after-swap", "key-rotate.before-commit", "key-rotate.after-commit",
    ])
    func killedAtEachStepLeavesOneUsableKey(failpoint: String) async throws {
        let cli = CLIHarness()
        try await cli.initialize()
        for index in 0..<3 { try await cli.addApp("app\(index)", secret: "secret-\(index)") }
        var crashing = cli.rotor
        crashing.environment["ROTOR_FAILPOINTS"] = failpoint
        let killed = try await crashing.run(["key", "rotate"])
        #expect(killed.signal == SIGKILL, "\(killed)")

        let list = try await cli.expectSuccess(["app", "list"])
        #expect(list.stdout.contains("app2"))
        #expect(!FileManager.default.fileExists(atPath: cli.keyFile + ".old"))
        for index in 0..<3 {
            #expect(try await cli.expectSuccess(["secret", "show", "app\(index)"]).stdout.contains("secret-\(index)"))
        }
        // And a later rotation works normally.
        try await cli.expectSuccess(["key", "rotate"])
        #expect(try await cli.expectSuccess(["secret", "show", "app1"]).stdout.contains("secret-1"))
    }
}
