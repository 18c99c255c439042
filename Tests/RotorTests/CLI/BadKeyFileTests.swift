import Foundation
import GRDB
import RotorCore
import RotorSQLite
import RotorTesting
import Testing

/// Each bad key file gets one line on stderr, exit 64, and changes nothing.
struct BadKeyFileTests {
    enum Damage: String, CaseIterable {
        case missing, truncated, garbage, empty, loosePermissions, anotherDatabasesKey, directory
    }

    /// Long enough that no temporary path can contain it by chance.
    let canary = "CANARY-key-file-secret-5e1f"

    @Test(arguments: Damage.allCases)
    func badKeyFileChangesNothing(damage: Damage) async throws {
        let cli = CLIHarness()
        try await cli.initialize()
        try await cli.addApp("billing", secret: canary)
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
            #expect(!result.stderr.contains(canary))
            #expect(result.stdout.isEmpty)
        }
        #expect(fileDigest(cli.db) == before)
        if damage == .anotherDatabasesKey {
            #expect(try await cli.run(["app", "list"]).stderr.contains("does not belong to this database"))
        }
    }
}
