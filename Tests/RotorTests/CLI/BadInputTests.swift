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
