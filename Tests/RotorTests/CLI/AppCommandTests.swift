import Foundation
import GRDB
import RotorCore
import RotorSQLite
import RotorTesting
import Testing

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
