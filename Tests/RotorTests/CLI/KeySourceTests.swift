import Foundation
import RotorCore
import RotorTesting
import Testing

/// The three master key sources: a key file, a systemd credential in
/// `$CREDENTIALS_DIRECTORY`, and `--key-command`.
struct KeySourceTests {
    /// A database whose key lives only in `vault/rotor.key`, away from the
    /// default `<db>.key` path.
    func databaseWithKeyInVault() async throws -> (cli: CLIHarness, vaultKey: String) {
        let cli = CLIHarness()
        try await cli.initialize()
        try await cli.addApp("billing", secret: "kc-secret-1")
        try FileManager.default.createDirectory(
            atPath: cli.directory.file("vault"), withIntermediateDirectories: false)
        let vaultKey = cli.directory.file("vault/rotor.key")
        try FileManager.default.moveItem(atPath: cli.keyFile, toPath: vaultKey)
        return (cli, vaultKey)
    }

    @Test func keyCommandOpensTheDatabaseFromOptionOrEnvironment() async throws {
        let (cli, vaultKey) = try await databaseWithKeyInVault()
        let shown = try await cli.expectSuccess(["secret", "show", "billing", "--key-command", "cat \(vaultKey)"])
        #expect(shown.stdout.contains("kc-secret-1"))
        var viaEnvironment = cli.rotor
        viaEnvironment.environment["ROTOR_KEY_COMMAND"] = "cat '\(vaultKey)'"
        try await cli.addApp("ledger", secret: "kc-secret-2", extra: ["--key-command", "cat \(vaultKey)"])
        #expect(try await viaEnvironment.run(["secret", "show", "ledger"]).stdout.contains("kc-secret-2"))
        // An option beats the variable.
        let wrong = try await viaEnvironment.run(["app", "list", "--key-file", cli.directory.file("nothing.key")])
        #expect(wrong.status == 64)
        #expect(wrong.stderr.contains("nothing.key"))
        // Without a source the default key file is missing: one clear line.
        let missing = try await cli.run(["app", "list"])
        #expect(missing.status == 64)
        #expect(missing.errorLines.count == 1)
    }

    @Test func bothKeyOptionsAreAUsageError() async throws {
        let (cli, vaultKey) = try await databaseWithKeyInVault()
        let result = try await cli.run(["app", "list", "--key-command", "cat \(vaultKey)", "--key-file", vaultKey])
        #expect(result.status == 64)
        #expect(result.errorLines == ["rotor: --key-command and --key-file both name the master key; pass one"])
    }

    enum Failure: String, CaseIterable {
        case exitsNonZero, printsGarbage, printsNothing, printsAnotherKey, printsTooMuch
    }

    /// A helper that fails gets one line, never its stdout, and the database
    /// stays as it was.
    @Test(arguments: Failure.allCases)
    func aBadKeyCommandChangesNothing(failure: Failure) async throws {
        let (cli, _) = try await databaseWithKeyInVault()
        let canary = "CANARY-key-helper-output-7f3a"
        let command: String
        switch failure {
        case .exitsNonZero: command = "echo \(canary); echo 'vault: permission denied' >&2; exit 2"
        case .printsGarbage: command = "echo \(canary)"
        case .printsNothing: command = "true"
        case .printsAnotherKey:
            try KeyFile.create(MasterKey.generate(), at: cli.directory.file("other.key"))
            command = "cat \(cli.directory.file("other.key"))"
        case .printsTooMuch: command = "head -c 100000 /dev/zero"
        }
        let before = fileDigest(cli.db)
        for arguments in [["app", "list"], ["secret", "show", "billing"], ["key", "rotate"], ["init"]] {
            let result = try await cli.run(arguments + ["--key-command", command])
            let expected: Int32 = failure == .exitsNonZero ? 1 : 64
            #expect(result.status == expected, "\(arguments): \(result)")
            #expect(!result.stderr.contains(canary))
            #expect(!result.stdout.contains(canary))
            #expect(!result.stderr.contains("kc-secret-1"))
            #expect(result.stdout.isEmpty)
            let ownLines = result.errorLines.filter { $0.hasPrefix("rotor: ") }
            #expect(ownLines.count == 1, "\(arguments): \(result)")
            if failure == .exitsNonZero {
                // The helper's own stderr reaches the operator.
                #expect(result.stderr.contains("vault: permission denied"))
                #expect(result.stderr.contains("exited with status 2"))
            }
        }
        #expect(fileDigest(cli.db) == before)
    }

    @Test func aHangingKeyCommandIsStoppedAtItsTimeout() throws {
        let started = Date()
        #expect(throws: RotorError.self) {
            try MasterKeySource.command("sleep 30", timeout: 0.5).load()
        }
        #expect(Date().timeIntervalSince(started) < 10)
        do {
            _ = try MasterKeySource.command("sleep 30", timeout: 0.5).load()
        } catch {
            #expect(error.code == .keyCommandFailed)
            #expect(error.message.contains("timed out"))
        }
    }

    @Test func systemdCredentialIsTheDefaultWhenPresent() async throws {
        let (cli, vaultKey) = try await databaseWithKeyInVault()
        chmod(vaultKey, 0o400)
        var service = cli.rotor
        service.environment["CREDENTIALS_DIRECTORY"] = cli.directory.file("vault")
        #expect(try await service.run(["secret", "show", "billing"]).stdout.contains("kc-secret-1"))
        // An explicit key file still wins over the credential.
        let other = cli.directory.file("other.key")
        try KeyFile.create(MasterKey.generate(), at: other)
        let explicit = try await service.run(["app", "list", "--key-file", other])
        #expect(explicit.status == 64)
        #expect(explicit.stderr.contains("does not belong to this database"))
        // A credential directory without rotor.key falls back to <db>.key.
        service.environment["CREDENTIALS_DIRECTORY"] = cli.directory.file("empty")
        try FileManager.default.createDirectory(
            atPath: cli.directory.file("empty"), withIntermediateDirectories: false)
        let fallback = try await service.run(["app", "list"])
        #expect(fallback.status == 64)
        #expect(fallback.stderr.contains(cli.keyFile))
    }

    @Test func keyGenerateWritesAKeyThatInitAdopts() async throws {
        let cli = CLIHarness()
        let path = cli.directory.file("generated.key")
        let generated = try await cli.expectSuccess(["key", "generate", path])
        #expect(Files.mode(path) == 0o600)
        let before = fileDigest(path)
        #expect(try await cli.run(["key", "generate", path]).status == 64)
        #expect(fileDigest(path) == before)
        #expect(!FileManager.default.fileExists(atPath: cli.db))
        let keyID = try #require(generated.stdout.split(separator: " ").dropFirst(3).first)
        let initialised = try await cli.expectSuccess(["init", "--key-file", path])
        #expect(initialised.stdout.contains("existing master key"))
        #expect(initialised.stdout.contains(String(keyID)))
    }

    @Test func initBindsANewDatabaseToTheCommandsKey() async throws {
        let cli = CLIHarness()
        let vaultKey = cli.directory.file("held.key")
        let key = MasterKey.generate()
        try KeyFile.create(key, at: vaultKey)
        let result = try await cli.expectSuccess(["init", "--key-command", "cat \(vaultKey)"])
        #expect(result.stdout.contains("--key-command"))
        #expect(result.stdout.contains(key.id))
        #expect(!FileManager.default.fileExists(atPath: cli.keyFile))
        try await cli.addApp("billing", secret: "kc-secret-3", extra: ["--key-file", vaultKey])
    }

    /// A key Rotor only reads cannot be replaced: `key rotate` asks for
    /// `--new-key-file`, then the new file opens the database and the old
    /// source no longer does.
    @Test func keyRotateWithAReadOnlySourceWritesANewKeyFile() async throws {
        let (cli, vaultKey) = try await databaseWithKeyInVault()
        let source = ["--key-command", "cat \(vaultKey)"]
        let before = fileDigest(cli.db)
        let refused = try await cli.run(["key", "rotate"] + source)
        #expect(refused.status == 64)
        #expect(refused.stderr.contains("--new-key-file"))
        #expect(fileDigest(cli.db) == before)

        let newKey = cli.directory.file("new.key")
        let rotated = try await cli.expectSuccess(["key", "rotate", "--new-key-file", newKey] + source)
        #expect(rotated.stdout.contains(newKey))
        #expect(Files.mode(newKey) == 0o600)
        let stale = try await cli.run(["app", "list"] + source)
        #expect(stale.status == 64)
        #expect(stale.stderr.contains("does not belong to this database"))
        let shown = try await cli.expectSuccess(["secret", "show", "billing", "--key-command", "cat \(newKey)"])
        #expect(shown.stdout.contains("kc-secret-1"))
        // It never overwrites a key file.
        let again = try await cli.run(["key", "rotate", "--new-key-file", newKey, "--key-file", newKey])
        #expect(again.status == 64)
        #expect(again.stderr.contains("never overwritten"))
    }

    /// SIGKILL around the commit: before it the source's key still opens
    /// every secret; after it the new key file does.
    @Test(arguments: ["key-rotate.after-swap", "key-rotate.before-commit", "key-rotate.after-commit"])
    func killedKeyRotateWithANewKeyFileLeavesOneUsableKey(failpoint: String) async throws {
        let (cli, vaultKey) = try await databaseWithKeyInVault()
        let newKey = cli.directory.file("new.key")
        var crashing = cli.rotor
        crashing.environment["ROTOR_FAILPOINTS"] = failpoint
        let killed = try await crashing.run([
            "key", "rotate", "--new-key-file", newKey, "--key-command", "cat \(vaultKey)",
        ])
        #expect(killed.signal == SIGKILL, "\(killed)")
        let committed = failpoint == "key-rotate.after-commit"
        let working = committed ? newKey : vaultKey
        let shown = try await cli.expectSuccess(["secret", "show", "billing", "--key-file", working])
        #expect(shown.stdout.contains("kc-secret-1"))
    }
}
