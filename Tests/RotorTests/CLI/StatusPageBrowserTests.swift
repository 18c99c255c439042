import Foundation
import RotorCore
import RotorTesting
import Testing
import VitaleraSandbox

/// The status page of `rotor run --listen`, rendered by headless Chromium
/// (Debian's `chromium`, which `.ci/run` installs): the DOM a person sees,
/// and a screenshot at a phone's width kept as a test artefact.
@Suite(.serialized)
struct StatusPageBrowserTests {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// Where the screenshot is kept: `.build/test-artifacts/` of this package.
    static let artefacts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(".build/test-artifacts").path

    /// Runs headless Chromium with a profile of its own, then ends every
    /// process that still names that profile (its helpers may outlive it).
    static func chromium(_ arguments: [String], in directory: TemporaryDirectory) async throws -> String {
        let browser = try #require(chromium, "headless Chromium is needed: apt-get install chromium")
        let profile = directory.file("chromium-profile")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: browser)
        process.arguments =
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
                "--user-data-dir=\(profile)",
            ] + arguments
        process.environment = ["HOME": directory.path, "PATH": "/usr/bin:/bin"]
        let output = directory.file("chromium.out")
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardError = FileHandle.nullDevice
        let (exited, done) = AsyncStream<Void>.makeStream()
        process.terminationHandler = { _ in done.finish() }
        try process.run()
        let guardTimer = Task {
            try await Task.sleep(for: .seconds(120))
            process.terminate()
        }
        for await _ in exited {}
        guardTimer.cancel()
        killProcesses(naming: profile)
        return String(decoding: try directory.read("chromium.out"), as: UTF8.self)
    }

    static func killProcesses(naming text: String) {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return }
        for entry in entries {
            guard let pid = Int32(entry),
                let command = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"),
                String(decoding: command, as: UTF8.self).contains(text)
            else { continue }
            kill(pid, SIGKILL)
        }
    }

    @Test func thePageShowsEachAppAndAFailingTargetsReasonAndNoSecret() async throws {
        try await withSandbox { sandbox in
            let cli = CLIHarness()
            try await cli.initialize()
            try await cli.addApp("billing", from: sandbox)
            try await cli.addApp("crm", secret: "crm-canary-\(UUID().uuidString)", extra: ["--every", "30d"])
            try await cli.expectSuccess(["target", "add", "billing", "--file", cli.directory.file("billing.env")])
            try await cli.expectSuccess(["target", "add", "billing", "--exec", "echo refused by consumer >&2; exit 7"])
            #expect(try await cli.run(["rotate", "billing"]).status == 3)
            let pair = await sandbox.currentPair()
            let (daemon, base) = try await OpsEndpointTests.startDaemon(cli)
            defer { daemon.kill(SIGKILL) }

            let dom = try await Self.chromium(["--dump-dom", base + "/"], in: cli.directory)
            #expect(dom.contains("<title>"), "\(dom)")
            #expect(dom.contains("id=\"app-billing\""))
            #expect(dom.contains("id=\"app-crm\""))
            #expect(dom.contains("data-health=\"retrying\"") || dom.contains("data-health=\"failed\""), "\(dom)")
            #expect(dom.contains("the hook exited with status 7"), "\(dom)")
            #expect(dom.contains("id=\"target-2\" data-state=\"retrying\""), "\(dom)")
            #expect(dom.contains("rotation.completed") || dom.contains("rotation.verified"))
            for secret in [pair.clientSecret, sandbox.application.clientSecret, "crm-canary"] {
                #expect(!dom.contains(secret))
            }

            try FileManager.default.createDirectory(atPath: Self.artefacts, withIntermediateDirectories: true)
            let shot = Self.artefacts + "/status-page.png"
            try? FileManager.default.removeItem(atPath: shot)
            _ = try await Self.chromium(
                ["--window-size=412,1400", "--hide-scrollbars", "--screenshot=\(shot)", base + "/"], in: cli.directory)
            let png = try #require(FileManager.default.contents(atPath: shot))
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
            #expect(png.count > 5000)
            daemon.kill(SIGTERM)
            #expect(await daemon.wait().status == 0)
        }
    }
}
