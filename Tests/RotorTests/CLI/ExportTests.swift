import Foundation
import RotorCore
import RotorTesting
import Testing
import Yams

/// `rotor export`: the configuration as a file of the `apply` schema, never a secret.
struct ExportTests {
    @Test func everyKindOfSettingIsExportedAndNoSecret() async throws {
        let cli = CLIHarness()
        try await cli.initialize()
        let dir = cli.directory
        try await cli.addApp(
            "billing", secret: "export-canary-secret",
            extra: ["--every", "30d", "--jitter", "2h", "--window", "02:00-05:00", "--timezone", "Europe/Amsterdam"])
        try await cli.addApp("crm", secret: "export-canary-secret-2", extra: ["--cron", "0 3 * * 1"])
        try await cli.expectSuccess(["app", "set", "crm", "--disable"])
        try dir.write("t.mustache", "id={{client_id}}\n")
        try dir.write("hook.key", "0123456789abcdef0123")
        for target in [
            ["--file", dir.file("a.env")], ["--file", dir.file("a.json"), "--format", "json", "--mode", "640"],
            ["--file", dir.file("a.properties"), "--template", dir.file("t.mustache")],
            [
                "--exec", "systemctl reload billing", "--timeout", "1m", "--env", "--check", "true", "--check-timeout",
                "2m",
            ],
            [
                "--webhook", "https://hooks.example.com/deploy/url-token", "--secret-file", dir.file("hook.key"),
                "--header", "Authorization: Bearer header-canary-token",
            ],
        ] {
            try await cli.expectSuccess(["target", "add", "billing"] + target)
        }
        try await cli.expectSuccess(["alert", "add", "--exec", "page-oncall"])
        try await cli.expectSuccess([
            "alert", "add", "--webhook", "https://chat.example.com/hooks/x", "--on", "completed,lost",
        ])

        let yaml = try await cli.expectSuccess(["export"]).stdout
        let config = try YAMLDecoder().decode(ConfigFile.self, from: yaml)
        #expect(config.version == 1 && config.apps.map(\.name) == ["billing", "crm"])
        let billing = try #require(config.apps.first)
        #expect(billing.applicationID == "app-billing" && billing.apiURL == nil && billing.enabled == nil)
        #expect(
            billing.schedule
                == ScheduleConfig(every: "30d", jitter: "2h", window: "02:00-05:00", timezone: "Europe/Amsterdam"))
        let crm = try #require(config.apps.last)
        #expect(crm.schedule == ScheduleConfig(cron: "0 3 * * 1") && crm.enabled == false && crm.targets == nil)
        let targets = try #require(billing.targets)
        #expect(targets.count == 5)
        #expect(targets[0].file == dir.file("a.env") && targets[0].format == nil && targets[0].mode == nil)
        #expect(targets[1].format == "json" && targets[1].mode == "0640")
        #expect(targets[2].templateText == "id={{client_id}}\n" && targets[2].template == nil)
        #expect(targets[3].exec == "systemctl reload billing" && targets[3].timeout == "1m" && targets[3].env == true)
        #expect(targets[3].check == "true" && targets[3].checkTimeout == "2m")
        #expect(targets[4].webhook == "https://hooks.example.com/deploy/url-token")
        #expect(targets[4].secretFile == dir.file("hook.key"))
        let alerts = try #require(config.alerts)
        #expect(
            alerts == [
                AlertConfig(exec: "page-oncall"),
                AlertConfig(webhook: "https://chat.example.com/hooks/x", on: ["lost", "completed"]),
            ])
        for secret in ["export-canary-secret", "header-canary-token", "0123456789abcdef0123"] {
            #expect(!yaml.contains(secret))
        }
        // The same file as JSON.
        let json = try await cli.expectSuccess(["export", "--format", "json"]).stdout
        #expect(try JSONDecoder().decode(ConfigFile.self, from: Data(json.utf8)) == config)

        // What `export` writes, `apply` reads back as it is: nothing to change.
        try dir.write("exported.yaml", yaml)
        let before = cli.snapshot()
        let applied = try await cli.expectSuccess(["apply", "-f", dir.file("exported.yaml"), "--prune"])
        #expect(applied.stdout.hasPrefix("No changes"), "\(applied)\n\(yaml)")
        #expect(cli.snapshot() == before)
    }
}
