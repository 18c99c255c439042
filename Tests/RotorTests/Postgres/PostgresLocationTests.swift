import Foundation
import RotorCore
import RotorTesting
import Testing

/// `--db postgres://…` (postgres.md, "Connecting"): the parts, the
/// password's three sources as libpq users expect, and never the password
/// in what is shown.
struct PostgresLocationTests {
    @Test func aURLGivesItsPartsWithSafeDefaultsAndIsShownWithoutItsPassword() throws {
        let location = try PostgresLocation(
            url: "postgres://rotor:pw-canary%2Fx@db.internal/rotor", environment: [:])
        #expect(location.user == "rotor" && location.host == "db.internal" && location.port == 5432)
        #expect(location.database == "rotor" && location.sslMode == .verifyFull)
        #expect(location.password?.reveal() == "pw-canary/x")
        #expect(location.description == "postgres://rotor@db.internal:5432/rotor")
        #expect(!"\(location)".contains("pw-canary"))
        let local = try PostgresLocation(url: "postgresql://rotor@127.0.0.1:6543/r?sslmode=disable", environment: [:])
        #expect(local.port == 6543 && local.sslMode == .disable && local.password == nil)
        #expect(local.description == "postgres://rotor@127.0.0.1:6543/r?sslmode=disable")
        #expect(PostgresLocation.isURL("postgres://a@b/c") && PostgresLocation.isURL("postgresql://a@b/c"))
        #expect(!PostgresLocation.isURL("/var/lib/rotor/rotor.db") && !PostgresLocation.isURL("rotor.db"))
    }

    @Test(arguments: [
        ("postgres://rotor:pw-canary@/rotor", "not a PostgreSQL URL"),
        ("postgres://db.internal/rotor", "names no user"),
        ("postgres://rotor:pw-canary@db.internal/", "names no database"),
        ("postgres://rotor:pw-canary@db.internal/rotor?sslmode=allow", "sslmode takes disable, require or verify-full"),
        ("postgres://rotor:pw-canary@db.internal/rotor?connect_timeout=3", "two settings"),
        ("postgres://rotor:pw-canary@db.internal/rotor?sslmode=disable", "in the clear"),
    ])
    func aBadURLIsOneSentenceWithoutThePassword(_ url: String, message: String) {
        #expect {
            try PostgresLocation(url: url, environment: [:])
        } throws: { error in
            let text = "\(error)"
            return (error as? RotorError)?.code == .invalidInput && text.contains(message)
                && !text.contains("pw-canary")
        }
    }

    @Test func thePasswordComesFromTheEnvironmentOrThePasswordFileAsLibpqReadsThem() throws {
        let directory = TemporaryDirectory()
        #expect(
            try PostgresLocation(url: "postgres://rotor@db/rotor", environment: ["PGPASSWORD": "from-env"]).password?
                .reveal() == "from-env")
        // The URL's own password wins.
        #expect(
            try PostgresLocation(url: "postgres://rotor:from-url@db/rotor", environment: ["PGPASSWORD": "from-env"])
                .password?.reveal() == "from-url")
        try directory.write(
            "pgpass",
            """
            # host:port:database:user:password
            other:5432:rotor:rotor:not-this-one
            db:5432:rotor:someone:nor-this
            db:*:rotor:rotor:with\\:colon\\\\slash
            *:*:*:*:fallback

            """, mode: 0o600)
        let file = directory.file("pgpass")
        #expect(
            try PostgresLocation(url: "postgres://rotor@db:6000/rotor", environment: ["PGPASSFILE": file]).password?
                .reveal() == "with:colon\\slash")
        #expect(
            try PostgresLocation(url: "postgres://x@elsewhere/y", environment: ["PGPASSFILE": file]).password?
                .reveal() == "fallback")
        // ~/.pgpass when PGPASSFILE is not set.
        try directory.write(".pgpass", "*:*:*:*:from-home\n", mode: 0o600)
        #expect(
            try PostgresLocation(url: "postgres://x@db/y", environment: ["HOME": directory.path]).password?.reveal()
                == "from-home")
        // A file others may read is ignored, as libpq ignores it.
        chmod(file, 0o644)
        #expect(
            try PostgresLocation(url: "postgres://rotor@db/rotor", environment: ["PGPASSFILE": file]).password == nil)
    }

    /// The commands: a URL without a key source gets the fix; a server that
    /// cannot be reached, one line; never the password, never a file.
    @Test func aPostgresURLOnTheCommandLineIsRefusedInOneLineWithoutThePassword() async throws {
        let cli = CLIHarness()
        let url = "postgres://rotor:pw-canary@db.internal/rotor"
        for (arguments, message) in [
            (["status", "--db", url], "no <db>.key default"),
            (["app", "list", "--db", url + "?sslmode=bogus"], "sslmode takes"),
            (
                ["init", "--db", "postgres://rotor:pw-canary@127.0.0.1:1/rotor?sslmode=disable", "--key-file", "k"],
                "cannot connect to postgres://rotor@127.0.0.1:1/rotor?sslmode=disable"
            ),
        ] {
            let result = try await cli.run(arguments)
            #expect(result.status != 0 && result.errorLines.count == 1, "\(result)")
            #expect(result.stderr.contains(message) && !result.stderr.contains("pw-canary"), "\(result)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: cli.directory.path).isEmpty)
    }
}
