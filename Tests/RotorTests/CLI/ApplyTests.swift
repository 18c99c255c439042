import Foundation
import RotorCore
import RotorTesting
import Testing

/// `rotor apply` (config.md): a plan first, one transaction, idempotent,
/// `--prune`, and every bad file refused in one line with its place and no
/// change.
struct ApplyTests {
    /// A file for the sandbox's application with every kind of target, and an alert.
    func fullFile(_ cli: CLIHarness, _ sandbox: SandboxFixture) throws -> String {
        let dir = cli.directory
        try dir.write(
            "billing.initial.env",
            """
            # copied from the vendor's portal
            VITALERA_APPLICATION_ID=\(sandbox.application.id)
            VITALERA_CLIENT_ID=\(sandbox.application.clientID)
            VITALERA_CLIENT_SECRET=\(sandbox.application.clientSecret)

            """)
        try dir.write(
            "billing.properties.mustache", "vitalera.client-id={{client_id}}\nvitalera.secret={{client_secret}}\n")
        try FileManager.default.createDirectory(atPath: dir.file("out"), withIntermediateDirectories: true)
        try dir.write(
            "rotor.yaml",
            """
            version: 1
            apps:
              - name: billing
                application_id: \(sandbox.application.id)
                api_url: \(sandbox.url)
                schedule:
                  every: 30d
                  jitter: 2h
                  window: "02:00-05:00"
                  timezone: Europe/Amsterdam
                initial_credentials: billing.initial.env   # relative to this file
                targets:
                  - file: out/billing.env
                    format: env
                    mode: "0640"
                  - file: \(dir.file("out/app.properties"))
                    template: billing.properties.mustache
                  - exec: cat > /dev/null
                    timeout: 30s
                    check: "true"
                    check_timeout: 1m
            alerts:
              - exec: logger -t rotor
                on: [failed, lost, needs_action, delivery_failed]

            """)
        return dir.file("rotor.yaml")
    }

    @Test func aFileAddsAnAppWithItsTargetsAndAlertsOnceAndExportThenApplyChangesNothing() async throws {
        try await withSandbox { sandbox in
            let cli = CLIHarness()
            try await cli.initialize()
            let file = try fullFile(cli, sandbox)
            var outputs: [String] = []

            let before = cli.snapshot()
            let dry = try await cli.expectSuccess(["apply", "-f", file, "--dry-run"])
            outputs.append(dry.stdout + dry.stderr)
            #expect(
                dry.stdout.split(separator: "\n").map(String.init) == [
                    "+ app billing: every 30d, 3 targets, first pair from \(cli.directory.file("billing.initial.env"))",
                    "+ target billing: file \(cli.directory.file("out/billing.env")) (env, mode 640)",
                    "+ target billing: file \(cli.directory.file("out/app.properties")) (template, mode 600)",
                    "+ target billing: exec cat > /dev/null (timeout 30s), check true",
                    "+ alert exec logger -t rotor on failed,lost,needs_action,delivery_failed",
                    "Dry run: 5 changes planned, nothing changed.",
                ], "\(dry)")
            #expect(cli.snapshot() == before, "a dry run changed the database")

            let applied = try await cli.expectSuccess(["apply", "-f", file])
            outputs.append(applied.stdout + applied.stderr)
            #expect(applied.stdout.contains("Applied 5 changes in one transaction."), "\(applied)")
            let shown = try await cli.expectSuccess(["app", "show", "billing", "--json"])
            #expect(shown.stdout.contains("\"client_id\":\"\(sandbox.application.clientID)\""), "\(shown)")
            // The events of one transaction, as the usual commands audit them.
            let audit = try await cli.expectSuccess(["audit", "--format", "jsonl"]).stdout
            outputs.append(audit)
            for action in ["app.added", "target.added", "alert.added"] {
                #expect(audit.contains("\"action\":\"\(action)\""), "\(action) missing: \(audit)")
            }
            #expect(audit.contains("\"verified\":true"))

            // Applying again, and applying what `export` writes, changes nothing.
            let settled = cli.snapshot()
            let again = try await cli.expectSuccess(["apply", "-f", file])
            #expect(again.stdout == "No changes: the database matches \(file).\n", "\(again)")
            let exported = try await cli.expectSuccess(["export"]).stdout
            try cli.directory.write("exported.yaml", exported)
            let roundTrip = try await cli.expectSuccess(["apply", "-f", cli.directory.file("exported.yaml")])
            #expect(roundTrip.stdout.hasPrefix("No changes"), "\(roundTrip)\n\(exported)")
            let json = try await cli.expectSuccess(["export", "--format", "json"]).stdout
            try cli.directory.write("exported.json", json)
            let fromJSON = try await cli.expectSuccess(["apply", "-f", cli.directory.file("exported.json"), "--json"])
            #expect(fromJSON.stdout.contains("\"changes\":[]"), "\(fromJSON)")
            #expect(cli.snapshot() == settled, "applying the same configuration changed the database")

            // The stored pair is the vendor's: the first delivery writes it.
            try await cli.expectSuccess(["publish", "billing"])
            let env = String(decoding: try cli.directory.read("out/billing.env"), as: UTF8.self)
            #expect(env.contains("VITALERA_CLIENT_SECRET=\(sandbox.application.clientSecret)\n"))
            for output in outputs + [exported, json] {
                #expect(!output.contains(sandbox.application.clientSecret), "the secret leaked: \(output)")
            }
        }
    }

    @Test func aPlanShowsEachKindOfChangeAndPruneRemovesWhatTheFileDoesNotName() async throws {
        let cli = CLIHarness()
        try await cli.initialize()
        let dir = cli.directory
        try dir.write("crm.env", "{\"client_id\":\"client-crm\",\"client_secret\":\"apply-canary-crm\"}\n")
        func write(_ schedule: String, mode: String, timeout: String, on: String, extraTarget: String = "") throws {
            try dir.write(
                "rotor.yaml",
                """
                version: 1
                apps:
                  - name: crm
                    application_id: app-crm
                    verify: false
                    initial_credentials: crm.env
                    schedule: {\(schedule)}
                    targets:
                      - {file: crm.env.out, mode: "\(mode)"}
                      - {exec: "cat > /dev/null", timeout: \(timeout)}
                \(extraTarget)
                alerts:
                  - {exec: page-oncall, on: [\(on)]}

                """)
        }
        try write("every: 30d", mode: "0600", timeout: "30s", on: "failed")
        let file = dir.file("rotor.yaml")
        let first = try await cli.expectSuccess(["apply", "-f", file])
        #expect(
            first.stdout.contains(
                "+ app crm: every 30d, 2 targets, first pair from \(dir.file("crm.env")), not checked with the vendor"),
            "\(first)")
        // Things the file does not name: another app, a target added by hand, an alert.
        try await cli.addApp("legacy", secret: "apply-canary-legacy")
        try await cli.expectSuccess(["target", "add", "crm", "--exec", "true"])
        try await cli.expectSuccess(["alert", "add", "--exec", "old-pager"])
        try await cli.expectSuccess(["publish", "crm"])

        try write(
            "cron: \"0 3 * * 1\", timezone: Europe/Amsterdam", mode: "0640", timeout: "1m", on: "failed, completed",
            extraTarget: "      - {webhook: \"http://127.0.0.1:9/hook\"}")
        let plan = try await cli.expectSuccess(["apply", "-f", file, "--dry-run"])
        #expect(
            plan.stdout.split(separator: "\n").map(String.init) == [
                "~ app crm: schedule every 30d → cron 0 3 * * 1, timezone UTC → Europe/Amsterdam",
                "~ target crm/1: mode 600 → 640",
                "~ target crm/2: timeout 30s → 1m",
                "+ target crm: webhook http://127.0.0.1:9/… (unsigned)",
                "~ alert 1: on failed → failed,completed",
                "Dry run: 5 changes planned, nothing changed.",
            ], "\(plan)")
        let pruned = try await cli.expectSuccess(["apply", "-f", file, "--prune", "--dry-run"])
        #expect(
            pruned.stdout.split(separator: "\n").map(String.init) == [
                "~ app crm: schedule every 30d → cron 0 3 * * 1, timezone UTC → Europe/Amsterdam",
                "~ target crm/1: mode 600 → 640",
                "~ target crm/2: timeout 30s → 1m",
                "+ target crm: webhook http://127.0.0.1:9/… (unsigned)",
                "- target crm/3: exec true (timeout 30s)",
                "- app legacy: application app-legacy",
                "~ alert 1: on failed → failed,completed",
                "- alert 2: exec old-pager on failed,lost,needs_action,delivery_failed,check_failed",
                "Dry run: 8 changes planned, nothing changed.",
            ], "\(pruned)")

        try await cli.expectSuccess(["apply", "-f", file, "--prune"])
        // Changed in place: the same target IDs, and the changed file is written again.
        let targets = try #require(
            JSONValue.parse(try await cli.expectSuccess(["target", "list", "crm", "--json"]).stdout))
        guard case .array(let rows) = targets else { Issue.record("not a list: \(targets)"); return }
        #expect(rows.map { $0["id"] } == [.int(1), .int(2), .int(4)])
        #expect(rows.first?["mode"] == "640" && rows.first?["state"] == "pending", "\(rows)")
        #expect(try await cli.run(["app", "show", "legacy"]).status == 64)
        let audit = try await cli.expectSuccess(["audit", "--format", "jsonl"]).stdout
        for action in ["target.updated", "target.removed", "app.removed", "alert.updated", "alert.removed"] {
            #expect(audit.contains("\"action\":\"\(action)\""), "\(action) missing")
        }
        #expect(try await cli.expectSuccess(["audit", "verify"]).status == 0)
        // The webhook has no receiver (exit 3); the file is written again with its new mode.
        #expect(try await cli.run(["publish", "crm"]).status == 3)
        let mode = try FileManager.default.attributesOfItem(atPath: dir.file("crm.env.out"))[.posixPermissions] as? Int
        #expect(mode == 0o640)
        let again = try await cli.expectSuccess(["apply", "-f", file, "--prune"])
        #expect(again.stdout.hasPrefix("No changes"), "\(again)")
    }

    @Test func aBadFileIsOneLineWithItsPlaceAndChangesNothing() async throws {
        let cli = CLIHarness()
        try await cli.initialize()
        let dir = cli.directory
        try dir.write("crm.env", "VITALERA_CLIENT_ID=client-crm\nVITALERA_CLIENT_SECRET=apply-canary-bad\n")
        try dir.write(
            "open.env", "VITALERA_CLIENT_ID=client-crm\nVITALERA_CLIENT_SECRET=apply-canary-bad\n", mode: 0o644)
        try dir.write(
            "other.env",
            "VITALERA_APPLICATION_ID=app-other\nVITALERA_CLIENT_ID=c\nVITALERA_CLIENT_SECRET=apply-canary-bad\n")
        try await cli.addApp("billing", secret: "apply-canary-billing")
        let app = "version: 1\napps:\n  - name: crm\n    application_id: app-crm\n    verify: false\n"
        let cases: [(String, String)] = [
            (
                app + "    initial_credentials: crm.env\n    shedule: {every: 30d}\n",
                ":7: apps[0].shedule: unknown key 'shedule'"
            ),
            (app + "    initial_credentials: crm.env\n    schedule: {every: 3x}\n", ":7: apps[0].schedule.every:"),
            (app + "    initial_credentials: crm.env\n    targets: out.env\n", ":7: apps[0].targets: expected a list"),
            (
                app + "    initial_credentials: crm.env\n    targets:\n      - {file: a, mode: \"999\"}\n",
                ":8: apps[0].targets[0].mode:"
            ),
            (
                app + "    initial_credentials: crm.env\n    targets:\n      - {file: a, exec: b}\n",
                ":8: apps[0].targets[0]: a target needs exactly one"
            ),
            (
                app + "    initial_credentials: crm.env\n    enabled: maybe\n",
                ":7: apps[0].enabled: expected true or false"
            ),
            (
                app + "    initial_credentials: crm.env\n    identity: nobody\n",
                ":7: apps[0].identity: no identity named nobody"
            ),
            (app, ":3: apps[0]: app crm is new: give initial_credentials"),
            (app + "    initial_credentials: open.env\n", ":6: apps[0].initial_credentials:"),
            (app + "    initial_credentials: other.env\n", "is the pair of application app-other"),
            (app + "    initial_credentials: missing.env\n", ":6: apps[0].initial_credentials: cannot read"),
            ("version: 1\napps:\n  - name: billing\n    application_id: app-crm\n", ":4: apps[0].application_id:"),
            (
                app + "    initial_credentials: crm.env\n" + app.dropFirst(17) + "    initial_credentials: crm.env\n",
                ":7: apps[1].name: app crm is already at apps[0]"
            ),
            ("version: 2\napps: []\n", ":1: version: this build reads version 1"),
            ("apps: [\n", "not valid YAML"),
            ("", "is empty"),
            ("version: 1\napps: []\nalerts:\n  - {exec: a, on: [sometimes]}\n", ":4: alerts[0].on:"),
            (
                "version: 1\napps: []\nalerts:\n  - {webhook: \"http://example.com/x\"}\n",
                ":4: alerts[0].webhook: refusing webhook"
            ),
        ]
        let before = cli.snapshot()
        for (index, (text, expected)) in cases.enumerated() {
            let name = "bad\(index).yaml"
            try dir.write(name, text)
            let result = try await cli.run(["apply", "-f", dir.file(name)])
            #expect(result.status == 64, "\(name): \(result)")
            #expect(result.errorLines.count == 1, "\(name): \(result)")
            #expect(result.stderr.contains(name) && result.stderr.contains(expected), "\(name): \(result)")
            #expect(!result.stderr.contains("apply-canary"), "\(name): \(result)")
            #expect(result.stdout.isEmpty, "\(name): \(result)")
        }
        #expect(cli.snapshot() == before, "a refused file changed the database")
    }

    @Test func aPairTheVendorRejectsIsNotStored() async throws {
        try await withSandbox { sandbox in
            let cli = CLIHarness()
            try await cli.initialize()
            let file = try fullFile(cli, sandbox)
            try cli.directory.write(
                "billing.initial.env",
                "VITALERA_CLIENT_ID=\(sandbox.application.clientID)\nVITALERA_CLIENT_SECRET=not-the-secret-canary\n")
            let before = cli.snapshot()
            let result = try await cli.run(["apply", "-f", file])
            #expect(result.status != 0 && result.errorLines.count == 1, "\(result)")
            #expect(result.stdout.contains("+ app billing"), "the plan comes first: \(result)")
            #expect(!(result.stdout + result.stderr).contains("not-the-secret-canary"))
            #expect(cli.snapshot() == before)
        }
    }
}
