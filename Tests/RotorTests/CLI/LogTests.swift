import Foundation
import RotorCore
import RotorTesting
import Testing
import VitaleraSandbox

/// The logs of `rotor run` (cli.md, "Logs"), through the built binary.
struct LogTests {
    /// An app that is due one second after it was added.
    func withDueApp(_ body: (CLIHarness, SandboxFixture) async throws -> Void) async throws {
        try await withSandbox { sandbox in
            let cli = CLIHarness()
            try await cli.initialize()
            try await cli.addApp("billing", from: sandbox, extra: ["--every", "1s"])
            try await Task.sleep(for: .milliseconds(1500))
            try await body(cli, sandbox)
        }
    }

    @Test func logfmtByDefaultWithTheMessageFirst() async throws {
        try await withDueApp { cli, sandbox in
            let result = try await cli.run(["run", "--once", "--log-level", "info"])
            #expect(result.status == 0, "\(result)")
            let line = try #require(result.errorLines.first { $0.contains("msg=\"rotated on schedule\"") }, "\(result)")
            #expect(line.hasPrefix("time="))
            #expect(line.contains(" level=info msg=\"rotated on schedule\" app=billing "), "\(line)")
            // Times to the millisecond, in UTC.
            let time = try #require(line.split(separator: " ").first?.dropFirst("time=".count))
            #expect(RFC3339.parse(String(time)) != nil && time.hasSuffix("Z") && time.count == 24, "\(time)")
            let secret = await sandbox.currentPair().clientSecret
            #expect(!result.stderr.contains(secret) && !result.stdout.contains(secret))
        }
    }

    @Test func jsonLinesFromTheOptionOrTheEnvironment() async throws {
        try await withDueApp { cli, _ in
            var environment = cli
            environment.rotor.environment["ROTOR_LOG_FORMAT"] = "json"
            environment.rotor.environment["ROTOR_LOG_LEVEL"] = "debug"
            let result = try await environment.run(["run", "--once"])
            #expect(result.status == 0, "\(result)")
            #expect(!result.errorLines.isEmpty)
            for line in result.errorLines {
                #expect(line.hasPrefix("{\"time\":\""), "\(line)")
                let object = try #require(JSONValue.parse(line), "\(line)")
                #expect(object["level"] != nil && object["msg"] != nil)
            }
            let rotated = try #require(result.errorLines.first { $0.contains("\"rotated on schedule\"") })
            // Numbers as numbers.
            #expect(JSONValue.parse(rotated)?["covers"].map { if case .int = $0 { true } else { false } } == true)
        }
    }

    @Test func onceLogsWarningsOnlyUnlessTold() async throws {
        try await withDueApp { cli, _ in
            let result = try await cli.run(["run", "--once"])
            #expect(result.status == 0, "\(result)")
            #expect(!result.stderr.contains("level=info"), "\(result)")
            #expect(result.stdout.contains("billing"))
        }
    }

    @Test func verboseLogsEachStepAndEachVendorRequest() async throws {
        try await withDueApp { cli, sandbox in
            let quiet = try await cli.expectSuccess(["rotate", "billing"])
            #expect(quiet.stderr.isEmpty, "\(quiet)")
            let result = try await cli.expectSuccess(["rotate", "billing", "--verbose"])
            let requests = result.errorLines.filter { $0.contains("msg=\"vendor request\"") }
            #expect(
                requests.contains {
                    $0.hasSuffix("url=\(sandbox.url)/api/applications/rotate_credentials/") && $0.contains("status=200")
                }, "\(result)")
            #expect(requests.contains { $0.hasSuffix("/api/auth/tokens/") })
            #expect(result.errorLines.contains { $0.contains("msg=\"rotation moved\"") && $0.contains("to=completed") })
            #expect(result.errorLines.allSatisfy { $0.hasPrefix("time=") && $0.contains(" level=debug ") })
            let secret = await sandbox.currentPair().clientSecret
            #expect(!result.stderr.contains(secret) && !result.stderr.contains(sandbox.application.clientSecret))
            #expect(!result.stderr.contains("Bearer"))
        }
    }

    @Test func aBadLogSettingIsOneLineAndExit64() async throws {
        let cli = CLIHarness()
        try await cli.initialize()
        var environment = cli
        environment.rotor.environment["ROTOR_LOG_LEVEL"] = "loud"
        let fromEnvironment = try await environment.run(["run", "--once"])
        #expect(fromEnvironment.status == 64, "\(fromEnvironment)")
        #expect(fromEnvironment.errorLines.count == 1 && fromEnvironment.stderr.contains("ROTOR_LOG_LEVEL"))
        let fromOption = try await cli.run(["run", "--once", "--log-format", "xml"])
        #expect(fromOption.status == 64, "\(fromOption)")
        #expect(fromOption.stderr.contains("--log-format"))
    }
}
