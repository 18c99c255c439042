import Foundation
import GRDB
import RotorCore
import RotorTesting
import Testing
import VitaleraSandbox

/// Hostile input through the built binary: each case gets a clear one-line
/// error (or a clean listing), no crash, no forged or steering output, and
/// nothing changed.
@Suite(.serialized)
struct HostileInputTests {
    /// Terminal escapes, a forged second line, C1 controls and 100 KiB.
    static let hostile = [
        "evil\nrotor: error: forged line", "\u{1b}]0;owned\u{7}", "\u{1b}[2J\u{1b}[31m", "\u{9b}2J",
        "a\u{202e}txt.exe", String(repeating: "a", count: 100 * 1024),
    ]

    /// Where each hostile value goes.
    static let places: [(String, @Sendable (String) -> [String])] = [
        ("app name", { ["app", "add", $0] }),
        ("--every", { ["app", "add", "ok", "--every", $0] }),
        ("--cron", { ["app", "add", "ok", "--cron", $0] }),
        ("--window", { ["app", "add", "ok", "--window", $0] }),
        ("--timezone", { ["app", "add", "ok", "--timezone", $0] }),
        ("--api-url", { ["app", "add", "ok", "--api-url", $0] }),
        ("app show", { ["app", "show", $0] }),
        ("--listen", { ["run", "--listen", $0] }),
        ("hook --timeout", { ["target", "add", "billing", "--exec", "true", "--timeout", $0] }),
        ("audit --since", { ["audit", "--since", $0] }),
        ("audit --action", { ["audit", "--action", $0] }),
    ]

    static func expectClean(_ result: RotorProcess.Result, _ what: String) {
        #expect(result.signal == nil, "\(what): \(result)")
        #expect(result.status != 0, "\(what): \(result)")
        // One line, and for the argument parser's errors its usage lines.
        let lines = result.errorLines.filter { !$0.hasPrefix("Usage: ") && !$0.hasPrefix("  See 'rotor ") }
        #expect(lines.count == 1, "\(what): \(result.stderr.prefix(400))")
        #expect(!result.errorLines.contains { UserText.needsEscaping($0) }, "\(what): \(result.stderr.prefix(400))")
        #expect(result.stderr.utf8.count < 1500, "\(what): \(result.stderr.utf8.count) bytes")
        #expect(!result.errorLines.contains { $0.hasPrefix("rotor: error: forged") }, "\(what)")
    }

    @Test func hostileTextIsQuotedInOneShortLineAndChangesNothing() async throws {
        let cli = CLIHarness()
        try await cli.initialize()
        try await cli.addApp("billing", secret: "s0")
        let before = cli.snapshot()
        for (place, arguments) in Self.places {
            for value in Self.hostile {
                var command = arguments(value)
                if command.starts(with: ["app", "add"]) {
                    command += ["--application-id", "a1", "--client-id", "c1", "--client-secret-stdin", "--no-verify"]
                }
                let result = try await cli.run(command, stdin: "s1\n")
                Self.expectClean(result, "\(place) \(UserText.quoted(value, limit: 20))")
                #expect(result.stdout.isEmpty, "\(place)")
            }
        }
        #expect(cli.snapshot() == before)
    }

    @Test func aSecretTypedInTheWrongPlaceIsNeverEchoed() async throws {
        let cli = CLIHarness()
        try await cli.initialize()
        let before = cli.snapshot()
        let base = ["app", "add", "billing", "--application-id", "a1", "--client-id", "c1"]
        for arguments in [
            base + ["CANARY-positional", "--client-secret-stdin"],
            base + ["--client-secret-stdin=CANARY-flag-value"],
            base + ["--no-verify=CANARY-no-verify", "--client-secret-stdin"],
        ] {
            let result = try await cli.run(arguments, stdin: "s\n")
            #expect(result.status == 64, "\(result)")
            #expect(!result.stderr.contains("CANARY"), "\(result)")
            #expect(!result.stdout.contains("CANARY"))
            #expect(result.stderr.contains("not shown"), "\(result)")
        }
        #expect(cli.snapshot() == before)
    }

    @Test(arguments: [
        "http://127.0.0.1:99999", "http://[::1]:70000", "https://api.vitalera.example:0",
        "https://api.vitalera.example:\(String(repeating: "9", count: 40))", "https://api.vitalera.example:-1",
    ])
    func anAPIURLWithAnImpossiblePortIsRefused(_ url: String) async throws {
        let cli = CLIHarness()
        try await cli.initialize()
        let before = cli.snapshot()
        let result = try await cli.run(
            [
                "app", "add", "billing", "--application-id", "a1", "--client-id", "c1", "--client-secret-stdin",
                "--api-url", url,
            ],
            stdin: "s\n")
        #expect(result.status == 64, "\(result)")
        Self.expectClean(result, url)
        #expect(cli.snapshot() == before)
    }

    @Test(arguments: ["106751991167d", "36501d", "9999999999999999999999s"])
    func aDurationBeyondAHundredYearsIsRefused(_ every: String) async throws {
        let cli = CLIHarness()
        try await cli.initialize()
        let before = cli.snapshot()
        for arguments in [
            [
                "app", "add", "ok", "--every", every, "--application-id", "a", "--client-id", "c",
                "--client-secret-stdin",
            ],
            ["audit", "--since", every], ["audit", "--until", every],
        ] {
            let result = try await cli.run(arguments, stdin: "s\n")
            #expect(result.status == 64, "\(arguments): \(result)")
            Self.expectClean(result, every)
        }
        #expect(cli.snapshot() == before)
    }

    @Test(arguments: ["1e10", "inf", "nan", "2147484", "1e308", "-1", "15s"])
    func aBusyTimeoutOutOfRangeIsRefused(_ value: String) async throws {
        var cli = CLIHarness()
        try await cli.initialize()
        cli.rotor.environment["ROTOR_BUSY_TIMEOUT"] = value
        let result = try await cli.run(["app", "list"])
        #expect(result.status == 64, "\(result)")
        Self.expectClean(result, value)
        #expect(result.stderr.contains("ROTOR_BUSY_TIMEOUT"))
    }

    @Test(arguments: ["0", "601", "1.5", "abc", "99999999999999999999"])
    func aVendorTimeoutOutOfRangeIsRefused(_ value: String) async throws {
        var cli = CLIHarness()
        try await cli.initialize()
        try await cli.addApp("billing", secret: "s0")
        cli.rotor.environment["ROTOR_VENDOR_TIMEOUT"] = value
        let result = try await cli.run(["rotate", "billing"])
        #expect(result.status == 64, "\(result)")
        Self.expectClean(result, value)
        #expect(result.stderr.contains("ROTOR_VENDOR_TIMEOUT"))
    }

    /// Rewrites one app's row behind Rotor's back, as a hand edit or an
    /// older or damaged copy of the database would.
    func edit(_ cli: CLIHarness, _ sql: String) throws {
        let queue = try DatabaseQueue(path: cli.db)
        try queue.write { try $0.execute(sql: sql) }
        try queue.close()
    }

    @Test func aDamagedStoredScheduleIsListedAndRepaired() async throws {
        let cli = CLIHarness()
        try await cli.initialize()
        try await cli.addApp("billing", secret: "s0", extra: ["--every", "30d"])
        try await cli.addApp("crm", secret: "s1", extra: ["--every", "7d"])
        try edit(
            cli, "UPDATE apps SET schedule_kind = 'every', schedule_expr = '9223372036854775807' WHERE name = 'billing'"
        )
        for arguments in [["app", "list"], ["app", "list", "--json"], ["app", "show", "billing"], ["status"]] {
            let result = try await cli.run(arguments)
            #expect(result.signal == nil, "\(arguments): \(result)")
            #expect(result.stdout.contains("billing"), "\(arguments): \(result)")
            #expect(result.stdout.contains("crm") || arguments[1] == "show", "\(arguments): \(result)")
        }
        let show = try await cli.run(["app", "show", "billing"])
        #expect(show.stdout.contains("damaged"), "\(show)")
        let once = try await cli.run(["run", "--once"])
        #expect(once.signal == nil, "\(once)")
        try await cli.expectSuccess(["app", "set", "billing", "--every", "30d"])
        #expect(try await cli.expectSuccess(["app", "show", "billing"]).stdout.contains("every 30d"))
    }

    @Test func aDamagedStoredAPIURLIsAnErrorNotACrash() async throws {
        let cli = CLIHarness()
        try await cli.initialize()
        try await cli.addApp("billing", secret: "s0")
        try edit(cli, "UPDATE apps SET api_url = 'http://127.0.0.1:99999' WHERE name = 'billing'")
        let rotate = try await cli.run(["rotate", "billing"])
        Self.expectClean(rotate, "rotate")
        #expect(rotate.stderr.contains("port 99999"), "\(rotate)")
        // A dry run reports the check that failed, on stdout, exits 1 and
        // changes nothing (the failed rotation above is in the history).
        let before = cli.snapshot()
        let dry = try await cli.run(["rotate", "billing", "--dry-run"])
        #expect(dry.status == 1, "\(dry)")
        #expect(dry.signal == nil)
        #expect(dry.stdout.contains("FAIL") && dry.stdout.contains("port 99999"), "\(dry)")
        #expect(cli.snapshot() == before)
        #expect(try await cli.run(["app", "show", "billing"]).status == 0)
    }

    @Test func aDamagedStoredTargetIsAnErrorForItsAppNotACrash() async throws {
        let cli = CLIHarness()
        try await cli.initialize()
        try await cli.addApp("billing", secret: "s0")
        try await cli.addApp("crm", secret: "s1")
        try await cli.expectSuccess(["target", "add", "billing", "--file", cli.directory.file("billing.env")])
        try await cli.expectSuccess(["target", "add", "billing", "--exec", "true"])
        try await cli.expectSuccess(["target", "add", "crm", "--file", cli.directory.file("crm.env")])
        for sql in [
            "UPDATE targets SET mode = -1 WHERE kind = 'file' AND path LIKE '%billing.env'",
            "UPDATE targets SET mode = 4294967296 WHERE kind = 'file' AND path LIKE '%billing.env'",
            "UPDATE targets SET timeout_ms = -5 WHERE kind = 'exec'",
        ] {
            try edit(cli, sql)
            for arguments in [["target", "list", "billing"], ["publish", "billing"]] {
                let result = try await cli.run(arguments)
                Self.expectClean(result, "\(sql): \(arguments)")
                #expect(result.stderr.contains("damaged"), "\(result)")
            }
            // Another app's targets are untouched by it, and `status` lists both.
            #expect(try await cli.run(["publish", "crm"]).status == 0)
            let status = try await cli.run(["status"])
            #expect(status.signal == nil && status.status == 3, "\(sql): \(status)")
            #expect(status.stdout.contains("billing") && status.stdout.contains("crm"), "\(status)")
        }
    }

    // MARK: - The vendor

    func addApp(_ cli: CLIHarness, _ sandbox: SandboxFixture, extra: [String] = []) async throws
        -> RotorProcess.Result
    {
        try await cli.run(
            [
                "app", "add", "billing", "--application-id", sandbox.application.id, "--client-id",
                sandbox.application.clientID, "--client-secret-stdin", "--api-url", sandbox.url,
            ] + extra,
            stdin: sandbox.application.clientSecret + "\n")
    }

    static func jwt(exp: String) -> String {
        "eyJhbGciOiJIUzI1NiJ9.\(JWT.base64URLEncode(Data("{\"exp\":\(exp)}".utf8))).c2ln"
    }

    /// Grant answers that are 200 and well-formed JSON but absurd.
    static let absurdGrants = [
        "{\"access_token\":\"abc.def.ghi\",\"token_type\":\"Bearer\",\"expires_in\":1e300}",
        "{\"access_token\":\"abc.def.ghi\",\"token_type\":\"Bearer\",\"expires_in\":-1e300}",
        "{\"access_token\":\"abc.def.ghi\",\"token_type\":\"Bearer\",\"expires_in\":99999999999999999999999999}",
        "{\"access_token\":\"\(jwt(exp: "1e300"))\",\"token_type\":\"Bearer\"}",
        "{\"access_token\":\"\(jwt(exp: "-9223372036854775808"))\",\"token_type\":\"Bearer\"}",
    ]

    @Test(arguments: absurdGrants)
    func anAbsurdGrantAnswerIsMalformedAndNothingIsStored(_ body: String) async throws {
        try await withSandbox { sandbox in
            let cli = CLIHarness()
            try await cli.initialize()
            let before = cli.snapshot()
            await sandbox.vendor.inject(SandboxFault(endpoint: .grant, status: 200, body: body, count: nil))
            let added = try await addApp(cli, sandbox)
            #expect(added.status == 1, "\(added)")
            Self.expectClean(added, body)
            #expect(cli.snapshot() == before)

            await sandbox.vendor.inject(SandboxFault(endpoint: .password, status: 200, body: body, count: nil))
            let identity = try await cli.run(
                [
                    "identity", "add", "ops", "--username", sandbox.user.username, "--password-stdin", "--api-url",
                    sandbox.url,
                ],
                stdin: sandbox.user.password + "\n")
            #expect(identity.status == 1, "\(identity)")
            Self.expectClean(identity, body)
            #expect(cli.snapshot() == before)
        }
    }

    @Test func anAbsurdGrantBeforeARotationLeavesThePairAlone() async throws {
        try await withSandbox { sandbox in
            let cli = CLIHarness()
            try await cli.initialize()
            #expect(try await addApp(cli, sandbox).status == 0)
            let body = try #require(Self.absurdGrants.first)
            await sandbox.vendor.inject(SandboxFault(endpoint: .grant, status: 200, body: body, count: nil))
            let result = try await cli.run(["rotate", "billing"])
            #expect(result.status == 1, "\(result)")
            #expect(result.signal == nil)
            #expect(!UserText.needsEscaping(result.stderr.dropLast()))
            #expect(await sandbox.vendor.application(sandbox.application.id)?.rotations == 0)
            await sandbox.vendor.clearFaults()
            let secret = try await cli.expectSuccess(["secret", "show", "billing"]).stdout
            #expect(secret.contains(sandbox.application.clientSecret), "\(secret)")
        }
    }

    @Test(arguments: absurdGrants.prefix(4))
    func anAbsurdUserTokenBeforeARotationLeavesThePairAlone(_ body: String) async throws {
        // Tokens that live 30 s are never reused (Rotor renews a minute
        // before expiry): every rotation refreshes or signs in again.
        try await withSandbox(settings: SandboxSettings(tokenLifetime: 30)) { sandbox in
            let cli = CLIHarness()
            try await cli.initialize()
            try await cli.expectSuccess(
                [
                    "identity", "add", "ops", "--username", sandbox.user.username, "--password-stdin", "--api-url",
                    sandbox.url,
                ],
                stdin: sandbox.user.password + "\n")
            #expect(try await addApp(cli, sandbox, extra: ["--identity", "ops"]).status == 0)
            for endpoint in [SandboxEndpoint.password, .refresh] {
                await sandbox.vendor.inject(SandboxFault(endpoint: endpoint, status: 200, body: body, count: nil))
            }
            let result = try await cli.run(["rotate", "billing"])
            #expect(result.status == 1, "\(result)")
            Self.expectClean(result, body)
            #expect(await sandbox.vendor.requestCount(.refresh) + sandbox.vendor.requestCount(.password) > 1)
            #expect(await sandbox.vendor.application(sandbox.application.id)?.rotations == 0)
        }
    }

    @Test func aVendorThatDripsItsAnswerIsCutOffAtTheTimeout() async throws {
        try await withSandbox { sandbox in
            var cli = CLIHarness()
            try await cli.initialize()
            let before = cli.snapshot()
            // 200 bytes, one every half second: 100 seconds for the answer.
            let body = "{\"access_token\":\"abc.def.ghi\",\"pad\":\"\(String(repeating: "x", count: 160))\"}"
            await sandbox.vendor.inject(
                SandboxFault(endpoint: .grant, status: 200, body: body, dripMS: 500, count: nil))
            cli.rotor.environment["ROTOR_VENDOR_TIMEOUT"] = "2"
            let start = Date()
            let result = try await addApp(cli, sandbox)
            // Generous for a busy machine; far below the 100 s the answer would take.
            #expect(Date().timeIntervalSince(start) < 60)
            #expect(result.status == 1, "\(result)")
            Self.expectClean(result, "drip")
            #expect(cli.snapshot() == before)
        }
    }

    @Test func aRotateAnswerThatDripsIsCutOffAndResolved() async throws {
        try await withSandbox { sandbox in
            var cli = CLIHarness()
            try await cli.initialize()
            #expect(try await addApp(cli, sandbox).status == 0)
            let body = "{\"client_id\":\"x\",\"pad\":\"\(String(repeating: "x", count: 180))\"}"
            await sandbox.vendor.inject(SandboxFault(endpoint: .rotate, status: 200, body: body, dripMS: 500))
            cli.rotor.environment["ROTOR_VENDOR_TIMEOUT"] = "2"
            let start = Date()
            let result = try await cli.run(["rotate", "billing"])
            #expect(Date().timeIntervalSince(start) < 60)
            #expect(result.signal == nil, "\(result)")
            #expect(!UserText.needsEscaping(result.stderr.dropLast()))
            // The answer was cut off at 2 s. The request might still have been in flight, so `rotate`
            // waited out that window (4 s), found the old pair still working (the vendor never
            // rotated), and rotated again: one rotation at the vendor, after one aborted.
            #expect(result.status == 0, "\(result)")
            #expect(await sandbox.vendor.application(sandbox.application.id)?.rotations == 1)
            let history = try await cli.expectSuccess(["history", "--json"]).stdout
            #expect(history.contains("\"state\":\"aborted\""), "\(history)")
            #expect(history.contains("\"state\":\"completed\""), "\(history)")
        }
    }

    @Test func aListenerThatCannotBindFailsAtOnce() async throws {
        try await withSandbox { sandbox in
            let cli = CLIHarness()
            try await cli.initialize()
            let port = try #require(URLComponents(string: sandbox.url)?.port)
            let start = Date()
            let result = try await cli.rotor.run(["run", "--listen", "127.0.0.1:\(port)"], timeout: 60)
            #expect(Date().timeIntervalSince(start) < 30)
            #expect(result.status == 1, "\(result)")
            Self.expectClean(result, "busy port")
            #expect(result.stderr.contains("\(port)"), "\(result)")
            let sandboxResult = try await cli.rotor.run(["sandbox", "--port", "\(port)"], timeout: 60)
            #expect(sandboxResult.status == 1, "\(sandboxResult)")
            Self.expectClean(sandboxResult, "busy sandbox port")
            #expect(sandboxResult.stderr.contains("pick another --port"), "\(sandboxResult)")
        }
    }

    /// ArgumentParser adds `(default: …)` to an option with a default value;
    /// a help text that says it again is read twice.
    @Test func helpGivesEachDefaultOnce() async throws {
        let cli = CLIHarness()
        for command in [
            ["run"], ["rotate"], ["alert", "add"], ["audit"], ["app", "add"], ["app", "set"], ["target", "add"],
            ["identity", "add"], ["sandbox"], ["status"], ["history"], ["key", "rotate"],
        ] {
            let help = try await cli.rotor.run(command + ["--help"])
            #expect(help.status == 0, "\(command)")
            // Joined, since the parser wraps a long help text over lines.
            let text = help.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined(
                separator: " ")
            #expect(
                text.range(of: #"\(default [^)]*\)\.? \((values: [^;]*; )?default:"#, options: .regularExpression)
                    == nil,
                "\(command): \(text)")
        }
    }
}
