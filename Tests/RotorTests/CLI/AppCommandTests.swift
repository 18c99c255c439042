import Foundation
import GRDB
import RotorCore
import RotorSQLite
import RotorTesting
import Testing

struct BadInputTests {
    struct Case: Sendable, CustomStringConvertible {
        var description: String
        var arguments: [String]
        var stdin: String
    }

    static let cases: [Case] = [
        Case(description: "name with a slash", arguments: ["app", "add", "a/b"], stdin: "s\n"),
        Case(description: "name with a space", arguments: ["app", "add", "a b"], stdin: "s\n"),
        Case(description: "upper-case name", arguments: ["app", "add", "Billing"], stdin: "s\n"),
        Case(
            description: "newline inside the secret", arguments: ["app", "add", "ok"], stdin: "CANARY-one\nCANARY-two\n"
        ),
        Case(description: "empty secret", arguments: ["app", "add", "ok"], stdin: ""),
        Case(description: "just a newline", arguments: ["app", "add", "ok"], stdin: "\n"),
        Case(description: "bad duration", arguments: ["app", "add", "ok", "--every", "30x"], stdin: "s\n"),
        Case(description: "zero duration", arguments: ["app", "add", "ok", "--every", "0d"], stdin: "s\n"),
        Case(description: "bad cron", arguments: ["app", "add", "ok", "--cron", "61 * * * *"], stdin: "s\n"),
        Case(description: "bad window", arguments: ["app", "add", "ok", "--window", "25:00-01:00"], stdin: "s\n"),
        Case(description: "bad zone", arguments: ["app", "add", "ok", "--timezone", "Nowhere/City"], stdin: "s\n"),
        Case(
            description: "plain http", arguments: ["app", "add", "ok", "--api-url", "http://api.vitalera.io"],
            stdin: "s\n"),
        Case(
            description: "both schedules", arguments: ["app", "add", "ok", "--every", "1d", "--cron", "@daily"],
            stdin: "s\n"),
        Case(description: "unknown identity", arguments: ["app", "add", "ok", "--identity", "ghost"], stdin: "s\n"),
        Case(description: "duplicate name", arguments: ["app", "add", "billing"], stdin: "s\n"),
    ]

    @Test(arguments: cases)
    func badInputChangesNothing(input: Case) async throws {
        let cli = CLIHarness()
        try await cli.initialize()
        try await cli.addApp("billing", secret: "s0")
        let before = cli.snapshot()
        var arguments = input.arguments
        if arguments.count >= 3, arguments[1] == "add" {
            arguments += ["--application-id", "a1", "--client-id", "c1", "--client-secret-stdin", "--no-verify"]
        }
        let result = try await cli.run(arguments, stdin: input.stdin)
        #expect(result.status == 64, "\(result)")
        #expect(result.stdout.isEmpty)
        #expect(!result.stderr.contains("CANARY"))
        #expect(cli.snapshot() == before)
    }

    @Test func usageErrorsExit64() async throws {
        let cli = CLIHarness()
        try await cli.initialize()
        for arguments in [
            ["app", "add", "x", "--application-id", "a", "--client-id", "c"],  // no secret source
            ["app", "add", "x", "--application-id", "a", "--client-id", "c", "--client-secret", "inline"],
            ["app", "set", "x", "--client-id", "c"],  // id without secret
            ["app", "show"], ["frobnicate"],
        ] {
            #expect(try await cli.run(arguments).status == 64, "\(arguments)")
        }
    }

    @Test func unknownAppsExit64WithOneLine() async throws {
        let cli = CLIHarness()
        try await cli.initialize()
        for arguments in [
            ["app", "show", "nope"], ["app", "remove", "nope"], ["secret", "show", "nope"],
            ["app", "set", "nope", "--disable"],
        ] {
            let result = try await cli.run(arguments)
            #expect(result.status == 64)
            #expect(result.errorLines == ["rotor: no app named nope; `rotor app list` shows the registered apps"])
        }
    }
}

struct AppCommandTests {
    @Test func theWholeLifecycleThroughTheBinary() async throws {
        let cli = CLIHarness()
        try await cli.initialize()
        try await cli.addApp(
            "billing", secret: "first-secret",
            extra: ["--every", "30d", "--jitter", "1h", "--window", "02:00-05:00", "--timezone", "Europe/Amsterdam"])
        let secretFile = cli.directory.file("secret.txt")
        try cli.directory.write("secret.txt", "from-a-file\n")
        try await cli.expectSuccess(
            [
                "app", "add", "crm", "--application-id", "a2", "--client-id", "c2", "--client-secret-file", secretFile,
                "--no-verify", "--cron", "0 3 * * 1",
            ])

        let list = try await cli.expectSuccess(["app", "list", "--json"])
        guard case .array(let apps)? = JSONValue.parse(list.stdout) else {
            Issue.record("not a JSON array: \(list.stdout)")
            return
        }
        try #require(apps.count == 2)
        guard case .object(let billing) = apps[0] else { return }
        #expect(billing["name"] == "billing")
        #expect(billing["schedule"] == "every 30d")
        #expect(billing["window"] == "02:00-05:00")
        #expect(billing["timezone"] == "Europe/Amsterdam")
        #expect(billing["version"] == 1)
        let table = try await cli.expectSuccess(["app", "list"]).stdout
        #expect(table.hasPrefix("NAME"))
        #expect(table.contains("crm"))

        let shown = try await cli.expectSuccess(["secret", "show", "crm", "--json"]).stdout
        #expect(shown.contains("\"client_secret\":\"from-a-file\""))

        try await cli.expectSuccess(
            [
                "app", "set", "billing", "--client-id", "c9", "--client-secret-stdin", "--no-verify", "--no-schedule",
                "--disable",
            ],
            stdin: "second-secret\n")
        let detail = try await cli.expectSuccess(["app", "show", "billing", "--json"]).stdout
        #expect(detail.contains("\"version\":2"))
        #expect(detail.contains("\"schedule\":\"manual\""))
        #expect(detail.contains("\"enabled\":false"))
        #expect(!detail.contains("second-secret"))
        #expect(try await cli.expectSuccess(["secret", "show", "billing"]).stdout.contains("second-secret"))

        try await cli.expectSuccess(["app", "remove", "crm"])
        let store = try SQLiteStore.open(path: cli.db)
        let actions = try store.withConnection {
            try String.fetchAll($0, sql: "SELECT action FROM audit_events ORDER BY id")
        }
        #expect(
            actions == ["app.added", "app.added", "secret.revealed", "app.updated", "secret.revealed", "app.removed"])
        let actors = try store.withConnection {
            try String.fetchAll($0, sql: "SELECT DISTINCT actor FROM audit_events")
        }
        #expect(actors.count == 1)
        #expect(actors.first?.contains("@") == true)
    }
}

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
