import Foundation
import RotorCore
import RotorTesting
import Testing

struct HookRunnerTests {
    let runner = HookRunner(grace: 1)

    func run(_ command: String, timeout: TimeInterval = 10, stdin: String = "{}\n", env: [String: String] = [:])
        async throws -> HookResult
    {
        try await runner.run(
            command: command, stdin: Array(stdin.utf8), environment: HookRunner.baseEnvironment.merging(env) { $1 },
            timeout: timeout, mask: ["CANARY-secret"])
    }

    @Test func exitZeroIsDeliveredAndStdinArrives() async throws {
        let result = try await run("cat; echo done", stdin: "hello")
        #expect(result.succeeded)
        #expect(result.output == "hellodone\n")
    }

    @Test func aFailingHookReportsItsStatus() async throws {
        let result = try await run("echo oops >&2; exit 3")
        #expect(!result.succeeded)
        #expect(result.exitCode == 3)
        #expect(result.output == "oops\n")
        #expect(result.failure == "exited with status 3")
    }

    @Test func aHangingHookIsStoppedAtItsTimeout() async throws {
        let start = Date()
        let result = try await run("sleep 600", timeout: 0.5)
        #expect(result.timedOut)
        // Well before the 600 s the hook asked for; a guard, not a measurement.
        #expect(Date().timeIntervalSince(start) < 120)
    }

    @Test func aHookIgnoringSIGTERMIsKilled() async throws {
        let start = Date()
        let result = try await run("trap '' TERM; while true; do sleep 0.1; done", timeout: 0.5)
        #expect(result.timedOut)
        #expect(Date().timeIntervalSince(start) < 120)
    }

    @Test func aHangingGrandchildDiesWithTheGroup() async throws {
        let dir = TemporaryDirectory()
        let pidFile = dir.file("pid")
        let result = try await run("sh -c 'echo $$ > \(pidFile); sleep 30' & wait", timeout: 0.5)
        #expect(result.timedOut)
        let pid = try #require(
            Int32(String(decoding: try dir.read("pid"), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
        try await Task.sleep(for: .milliseconds(200))
        // Gone, or a zombie waiting for init to reap it.
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        let state = stat.split(separator: ")").last?.split(separator: " ").first
        #expect(kill(pid, 0) != 0 || state == "Z", "\(stat)")
    }

    @Test func aGrandchildHoldingTheOutputDoesNotHoldUpAFinishedHook() async throws {
        let dir = TemporaryDirectory()
        let pidFile = dir.file("pid")
        let start = Date()
        let result = try await run("sh -c 'echo $$ > \(pidFile); exec sleep 600' & echo started", timeout: 500)
        // The grandchild outlives the hook by design; stop it here.
        for _ in 0..<100 where (try? dir.read("pid"))?.isEmpty ?? true { try await Task.sleep(for: .milliseconds(50)) }
        if let text = try? dir.read("pid"),
            let pid = Int32(String(decoding: text, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        {
            kill(pid, SIGKILL)
        }
        #expect(result.succeeded)
        #expect(Date().timeIntervalSince(start) < 120)
    }

    @Test func aHundredMegabytesOfOutputIsBounded() async throws {
        let result = try await run("head -c 100000000 /dev/zero", timeout: 60)
        #expect(result.succeeded)
        #expect(result.outputBytes == 100_000_000)
        #expect(result.output.utf8.count < HookRunner.outputLimit + 100)
    }

    @Test func aHookThatReadsNoStdinStillSucceeds() async throws {
        let big = String(repeating: "y", count: 200_000)
        let result = try await run("true", stdin: big)
        #expect(result.succeeded)
    }

    @Test func secretsAreMaskedInTheOutput() async throws {
        let result = try await run("echo the secret is CANARY-secret")
        #expect(result.output == "the secret is <redacted>\n")
    }

    @Test func aSecretAcrossTheOutputLimitLeavesNoPartBehind() async throws {
        // The secret starts 4 bytes before the limit: cut there, its first
        // characters would be kept in the database.
        let padding = HookRunner.outputLimit - 4
        let result = try await run("head -c \(padding) /dev/zero | tr '\\0' x; printf CANARY-secret; echo more")
        #expect(result.succeeded)
        #expect(result.outputBytes == padding + "CANARY-secret".utf8.count + 5)
        #expect(!result.output.contains("CANA"), "\(result.output.suffix(80))")
        #expect(result.output.hasPrefix(String(repeating: "x", count: padding)))
        #expect(result.output.hasSuffix("[… 18 more bytes not kept]"), "\(result.output.suffix(80))")
    }

    @Test func theEnvironmentIsMinimal() async throws {
        setenv("ROTOR_TEST_LEAK", "parent-only", 1)
        let result = try await run("env | sort", env: ["ROTOR_APP": "billing"])
        let names = result.output.split(separator: "\n").map { $0.split(separator: "=")[0] }.filter {
            $0 != "PWD" && $0 != "SHLVL" && $0 != "_"
        }
        #expect(names == ["HOME", "LANG", "PATH", "ROTOR_APP"])
    }
}
