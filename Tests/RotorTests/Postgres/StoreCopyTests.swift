import Foundation
import RotorCore
import RotorTesting
import Testing
import VitaleraSandbox

/// `rotor store copy SOURCE DEST` both ways and `rotor backup` from
/// PostgreSQL (cli.md, "Storage"): the copy is the same database (the same
/// key, IDs, history, audit chain), checked afterwards, and it goes on
/// working; a destination that is not empty is refused and left alone.
@Suite(.serialized) struct StoreCopyTests {
    /// What a database says about itself through the CLI, for "the same
    /// database". The reveals of `secret show` are left out of the audit
    /// export: each portrait adds its own.
    static func portrait(_ cli: CLIHarness, db: String) async throws -> [String] {
        var out: [String] = []
        for arguments in [
            ["export"], ["history", "--json"], ["audit", "export"], ["target", "list", "billing", "--json"],
            ["secret", "show", "billing", "--json"], ["secret", "show", "crm", "--json"], ["group", "list", "--json"],
            ["alert", "list", "--json"], ["identity", "list", "--json"],
        ] {
            let text = try await cli.expectSuccess(arguments + ["--db", db]).stdout
            out.append(
                arguments == ["audit", "export"]
                    ? text.split(separator: "\n").filter { !$0.contains("\"secret.revealed\"") }.joined(separator: "\n")
                    : text)
        }
        return out
    }

    @Test func aDatabaseMovesToPostgreSQLAndBackAndStaysTheSame() async throws {
        try await withSandbox { sandbox in
            // A SQLite database with a bit of everything, and a rotation's history.
            let cli = CLIHarness()
            try await cli.initialize()
            try await cli.expectSuccess(
                [
                    "identity", "add", "ops", "--username", sandbox.user.username, "--password-stdin", "--api-url",
                    sandbox.url,
                ], stdin: sandbox.user.password + "\n")
            try await cli.addApp("billing", from: sandbox, extra: ["--every", "30d", "--identity", "ops"])
            try await cli.addApp("crm", secret: "copy-canary-secret-crm")
            try await cli.addApp("crm-b", secret: "copy-canary-secret-crm-b")
            try await cli.expectSuccess(["target", "add", "billing", "--file", cli.directory.file("billing.env")])
            try await cli.expectSuccess(["alert", "add", "--exec", "true"])
            try await cli.expectSuccess(["group", "add", "pair", "--apps", "crm,crm-b", "--every", "30d"])
            try await cli.expectSuccess(["app", "set", "billing", "--token-client", "uid:1000"])
            try await cli.expectSuccess(["rotate", "billing"])
            let before = try await Self.portrait(cli, db: cli.db)

            // SQLite → PostgreSQL, with the key of the SQLite database.
            let database = try await SharedPostgres.shared.database()
            let url = database.urlWithoutPassword
            var pg = cli
            pg.rotor.environment["PGPASSWORD"] = PostgresServer.password
            let copied = try await pg.expectSuccess([
                "store", "copy", cli.db, url, "--key-file", cli.keyFile, "--json",
            ])
            #expect(copied.stdout.contains("\"secrets_read\":"), "\(copied)")
            #expect(
                !copied.stdout.contains(PostgresServer.password) && !copied.stderr.contains(PostgresServer.password))
            var onPostgres = pg
            onPostgres.rotor.environment["ROTOR_KEY_FILE"] = cli.keyFile
            #expect(try await Self.portrait(onPostgres, db: url) == before)
            #expect(try await onPostgres.run(["audit", "verify", "--db", url]).status == 0)

            // It goes on working there: new rows get new IDs, the vendor agrees.
            try await onPostgres.expectSuccess(["rotate", "billing", "--db", url])
            try await onPostgres.expectSuccess(
                [
                    "app", "add", "late", "--db", url, "--application-id", "x",
                    "--client-id", "y", "--client-secret-stdin", "--no-verify",
                ], stdin: "copy-canary-late\n")
            let shown = try await onPostgres.expectSuccess(["secret", "show", "billing", "--json", "--db", url]).stdout
            #expect(shown.contains(await sandbox.currentPair().clientSecret))
            let after = try await Self.portrait(onPostgres, db: url)

            // PostgreSQL → SQLite, by store copy and by backup: the same again.
            let back = cli.directory.file("back.db")
            try await onPostgres.expectSuccess(["store", "copy", url, back])
            #expect(try await Self.portrait(onPostgres, db: back) == after)
            let backup = cli.directory.file("backup.db")
            let written = try await onPostgres.expectSuccess(["backup", backup, "--db", url])
            #expect(written.stdout.contains("audit chain verifies"), "\(written)")
            #expect(try await Self.portrait(onPostgres, db: backup) == after)
            let attributes = try FileManager.default.attributesOfItem(atPath: backup)
            #expect((attributes[.posixPermissions] as? Int).map { $0 & 0o077 } == 0)

            // Into something that is not empty: refused in one line, nothing changed.
            for (arguments, message) in [
                (["store", "copy", cli.db, url], "already holds a Rotor database"),
                (["store", "copy", url, back], "exists"),
                (["backup", backup, "--db", url], "exists"),
            ] {
                let refused = try await onPostgres.run(arguments)
                #expect(refused.status != 0 && refused.errorLines.count == 1, "\(refused)")
                #expect(refused.stderr.contains(message), "\(refused)")
            }
            #expect(try await Self.portrait(onPostgres, db: url) == after)
            // No secret in what the commands printed but `secret show`.
            #expect(!copied.stdout.contains("copy-canary"))
        }
    }

    /// A key that is not the source's is refused before anything is written.
    @Test func theWrongKeyCopiesNothing() async throws {
        let cli = CLIHarness()
        try await cli.initialize()
        try await cli.addApp("billing", secret: "copy-canary-secret")
        try await cli.expectSuccess(["key", "generate", cli.directory.file("other.key")])
        let database = try await SharedPostgres.shared.database()
        var pg = cli
        pg.rotor.environment["PGPASSWORD"] = PostgresServer.password
        let refused = try await pg.run([
            "store", "copy", cli.db, database.urlWithoutPassword, "--key-file", cli.directory.file("other.key"),
        ])
        #expect(refused.status != 0 && refused.errorLines.count == 1, "\(refused)")
        let tables = try await database.server.psql(
            database.name, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        #expect(tables.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
    }
}
