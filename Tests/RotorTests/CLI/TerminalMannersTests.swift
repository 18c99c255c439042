import Foundation
import RotorCore
import RotorTesting
import Testing

/// Colour and progress (cli.md, "Terminal manners"): only on a terminal,
/// here a pseudo-terminal from util-linux's `script`.
struct TerminalMannersTests {
    /// Runs `rotor ARGS` on a pseudo-terminal (stdout and stderr both) and returns what it printed.
    func onTerminal(_ cli: CLIHarness, _ arguments: [String], environment: [String: String] = [:]) async throws
        -> RotorProcess.Result
    {
        var rotor = cli.rotor
        for (key, value) in environment { rotor.environment[key] = value }
        let command = ([RotorProcess.binary] + arguments).map { "'\($0)'" }.joined(separator: " ")
        rotor.executable = "/usr/bin/script"
        return try await rotor.run(["-qec", command, "/dev/null"])
    }

    func harness() async throws -> CLIHarness {
        let cli = CLIHarness()
        try await cli.initialize()
        try await cli.addApp("billing", secret: "terminal-canary-secret")
        try await cli.addApp("crm", secret: "terminal-canary-secret-2")
        try await cli.expectSuccess(["app", "set", "crm", "--disable"])
        return cli
    }

    @Test func healthWordsAreColouredOnATerminalOnly() async throws {
        let cli = try await harness()
        let coloured = try await onTerminal(cli, ["status"])
        #expect(coloured.status == 0, "\(coloured)")
        #expect(coloured.stdout.contains("\u{1B}[32mok\u{1B}[0m"), "\(coloured)")
        #expect(coloured.stdout.contains("\u{1B}[2mdisabled\u{1B}[0m"), "\(coloured)")
        let noColour = try await onTerminal(cli, ["status"], environment: ["NO_COLOR": "1"])
        #expect(noColour.stdout.contains("ok") && !noColour.stdout.contains("\u{1B}["), "\(noColour)")
        let piped = try await cli.expectSuccess(["status"])
        #expect(piped.stdout.contains("ok") && !piped.stdout.contains("\u{1B}["))
        // Columns still line up: the colour codes take no width.
        let lines = coloured.stdout.replacingOccurrences(of: "\r", with: "")
            .replacingOccurrences(of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression)
            .split(separator: "\n").map(String.init)
        let header = try #require(lines.first)
        let crm = try #require(lines.first { $0.hasPrefix("crm ") })
        func column(_ text: String, _ word: String) -> Int? {
            text.range(of: word).map { text.distance(from: text.startIndex, to: $0.lowerBound) }
        }
        #expect(column(header, "HEALTH") == column(crm, "disabled"))
        #expect(column(header, "REASON") == column(crm, "- "))
    }

    @Test func longOperationsShowProgressOnATerminalOnly() async throws {
        let cli = try await harness()
        let settings = ["ROTOR_PROGRESS_AFTER": "0"]
        let verify = try await onTerminal(cli, ["audit", "verify"], environment: settings)
        #expect(verify.status == 0, "\(verify)")
        #expect(verify.stdout.contains("\r\u{1B}[Kverifying the audit chain: "), "\(verify)")
        #expect(verify.stdout.contains("events is intact"))
        let rekey = try await onTerminal(cli, ["key", "rotate"], environment: settings)
        #expect(rekey.status == 0, "\(rekey)")
        #expect(rekey.stdout.contains("re-sealing secrets: 0/"), "\(rekey)")
        let backup = try await onTerminal(cli, ["backup", cli.directory.file("copy.db")], environment: settings)
        #expect(backup.status == 0, "\(backup)")
        #expect(backup.stdout.contains("\r\u{1B}[Kbacking up: ") && backup.stdout.contains(" MiB"), "\(backup)")
        var piped = cli
        piped.rotor.environment["ROTOR_PROGRESS_AFTER"] = "0"
        let quiet = try await piped.expectSuccess(["audit", "verify"])
        #expect(quiet.stderr.isEmpty, "\(quiet)")
        for result in [verify, rekey] {
            #expect(!result.stdout.contains("terminal-canary-secret"))
        }
    }
}
