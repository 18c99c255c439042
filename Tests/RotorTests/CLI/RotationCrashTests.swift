import Foundation
import GRDB
import RotorCore
import RotorSQLite
import RotorTesting
import Testing
import VitaleraSandbox

/// The built binary against the sandbox vendor: SIGKILL at each step of a
/// rotation, then `rotor run --once`, which must leave the stored pair equal
/// to the vendor's (or end `lost`, exit 4, where `rotation.md` says so).
/// Each case runs on SQLite and on PostgreSQL (postgres.md, "Tests").
struct RotationCrashTests {
    struct Setup {
        let cli: CLIHarness
        let sandbox: SandboxFixture

        func stored() async throws -> (clientID: String, secret: String) {
            let shown = try await cli.expectSuccess(["secret", "show", "billing", "--json"]).stdout
            guard case .object(let pair)? = JSONValue.parse(shown), case .string(let id)? = pair["client_id"],
                case .string(let secret)? = pair["client_secret"]
            else { throw RotorError(.io, "unreadable: \(shown)") }
            return (id, secret)
        }

        func expectInSync(sourceLocation: SourceLocation = #_sourceLocation) async throws {
            let vendor = await sandbox.currentPair()
            let stored = try await stored()
            #expect(stored.clientID == vendor.clientID, sourceLocation: sourceLocation)
            #expect(stored.secret == vendor.clientSecret, sourceLocation: sourceLocation)
        }

        func rotations() async -> Int {
            await sandbox.vendor.application(sandbox.application.id)?.rotations ?? -1
        }

        func states() async throws -> [String] {
            let history = try await cli.expectSuccess(["history", "--json"]).stdout
            guard case .array(let entries)? = JSONValue.parse(history) else { return [] }
            return entries.compactMap { entry in
                guard case .object(let members) = entry, case .string(let state)? = members["state"] else { return nil }
                return state
            }
        }

        /// Starts `rotor rotate billing` and kills it once `condition` holds.
        func killRotate(when condition: @escaping @Sendable () async -> Bool) async throws -> RotorProcess.Result {
            let running = try cli.rotor.start(["rotate", "billing", "--verify-timeout", "2s"])
            let deadline = Date().addingTimeInterval(20)
            while !(await condition()), Date() < deadline { try await Task.sleep(for: .milliseconds(5)) }
            running.kill(SIGKILL)
            return await running.wait()
        }
    }

    func withSetup(
        _ backend: CLIBackend, on database: SharedPostgres.Database? = nil, survive: Bool = true,
        identity: Bool = false, environment: [String: String] = [:], _ body: (Setup) async throws -> Void
    ) async throws {
        try await withSandbox(settings: SandboxSettings(tokensSurviveRotation: survive)) { sandbox in
            let cli =
                if let database {
                    try await CLIHarness.on(database, environment: environment)
                } else {
                    try await CLIHarness.on(backend, environment: environment)
                }
            try await cli.initialize()
            if identity {
                try await cli.expectSuccess(
                    [
                        "identity", "add", "ops", "--username", sandbox.user.username, "--password-stdin", "--api-url",
                        sandbox.url,
                    ],
                    stdin: sandbox.user.password + "\n")
            }
            try await cli.addApp("billing", from: sandbox)
            try await body(Setup(cli: cli, sandbox: sandbox))
        }
    }

    func runOnce(_ setup: Setup) async throws -> RotorProcess.Result {
        try await setup.cli.run(["run", "--once", "--verify-timeout", "2s"])
    }

    @Test(arguments: CLIBackend.allCases)
    func aManualRotationCompletes(backend: CLIBackend) async throws {
        try await withSetup(backend) { setup in
            let result = try await setup.cli.run(["rotate", "billing"])
            #expect(result.status == 0, "\(result)")
            #expect(result.stdout.contains("rotated billing: version 1 → 2"))
            try await setup.expectInSync()
            #expect(try await setup.states() == ["completed"])
            #expect(try await runOnce(setup).stdout.contains("nothing to do"))
        }
    }

    @Test(arguments: CLIBackend.allCases)
    func killedBeforeTheRequestTheVendorIsUnchanged(backend: CLIBackend) async throws {
        // ROTOR_VENDOR_TIMEOUT=15: a rotate request of a dead process may be in flight for 30 s, time
        // enough for the next process to start within it on a busy machine.
        try await withSetup(
            backend, environment: ["ROTOR_FAILPOINTS": "rotate.before-request", "ROTOR_VENDOR_TIMEOUT": "15"]
        ) { setup in
            let killed = try await setup.cli.run(["rotate", "billing"])
            #expect(killed.signal == SIGKILL)
            var clean = setup.cli.rotor
            clean.environment["ROTOR_FAILPOINTS"] = nil
            // At once: the old pair works, but the killed process's request may still reach the vendor.
            let early = try await clean.run(["run", "--once"])
            #expect(early.status == 3, "\(early)")
            #expect(early.stderr.contains("may still be in flight"), "\(early)")
            #expect(try await setup.states() == ["requesting"])
            // Once the window has passed: aborted, the old pair still works (polled, with a generous guard).
            var resolved = early
            for _ in 0..<60 where resolved.status == 3 {
                try await Task.sleep(for: .seconds(2))
                resolved = try await clean.run(["run", "--once"])
            }
            #expect(resolved.status == 1, "\(resolved)")
            #expect(await setup.rotations() == 0)
            try await setup.expectInSync()
            #expect(try await clean.run(["rotate", "billing"]).status == 0)
            try await setup.expectInSync()
        }
    }

    @Test(arguments: CLIBackend.allCases, ["rotate.after-answer", "rotate.before-verify"])
    func killedAfterTheAnswerArrived(backend: CLIBackend, failpoint: String) async throws {
        try await withSetup(backend, environment: ["ROTOR_FAILPOINTS": failpoint]) { setup in
            let killed = try await setup.cli.run(["rotate", "billing"])
            #expect(killed.signal == SIGKILL)
            #expect(await setup.rotations() == 1)
            var clean = setup.cli.rotor
            clean.environment["ROTOR_FAILPOINTS"] = nil
            let resolved = try await clean.run(["run", "--once", "--verify-timeout", "2s"])
            #expect(resolved.status == 0, "\(resolved)")
            try await setup.expectInSync()
            // Killed before the store, the pair was lost in memory: recovered by rotating again.
            #expect(await setup.rotations() == (failpoint == "rotate.after-answer" ? 2 : 1))
            #expect(try await setup.states() == ["completed"])
        }
    }

    @Test(arguments: CLIBackend.allCases)
    func killedWhileTheVendorHoldsTheAnswerTokensSurvive(backend: CLIBackend) async throws {
        try await withSetup(backend, survive: true) { setup in
            await setup.sandbox.vendor.inject(
                SandboxFault(endpoint: .rotate, afterCommit: .delay, delayAfterCommitMS: 10_000))
            let vendor = setup.sandbox.vendor
            let appID = setup.sandbox.application.id
            let killed = try await setup.killRotate { await vendor.application(appID)?.rotations == 1 }
            #expect(killed.signal == SIGKILL)
            await vendor.clearFaults()
            let resolved = try await runOnce(setup)
            #expect(resolved.status == 0, "\(resolved)")
            try await setup.expectInSync()
            #expect(await setup.rotations() == 2)
        }
    }

    @Test(arguments: CLIBackend.allCases)
    func killedWhileTheVendorHoldsTheAnswerTokensRevokedIsLost(backend: CLIBackend) async throws {
        try await withSetup(backend, survive: false) { setup in
            await setup.sandbox.vendor.inject(
                SandboxFault(endpoint: .rotate, afterCommit: .delay, delayAfterCommitMS: 10_000))
            let vendor = setup.sandbox.vendor
            let appID = setup.sandbox.application.id
            _ = try await setup.killRotate { await vendor.application(appID)?.rotations == 1 }
            await vendor.clearFaults()
            let resolved = try await runOnce(setup)
            #expect(resolved.status == 4, "\(resolved)")
            #expect(resolved.errorLines.count == 1)
            #expect(resolved.stderr.contains("is lost"))
            #expect(resolved.stderr.contains("rotor app set billing --client-id"))
            #expect(try await setup.states() == ["lost"])
            // The operator follows the message: the vendor's support issues a pair.
            let fresh = await setup.sandbox.currentPair()
            try await setup.cli.expectSuccess(
                ["app", "set", "billing", "--client-id", fresh.clientID, "--client-secret-stdin"],
                stdin: fresh.clientSecret + "\n")
            try await setup.expectInSync()
        }
    }

    @Test(arguments: CLIBackend.allCases)
    func killedWhileTheVendorHoldsTheAnswerTokensRevokedWithAnIdentity(backend: CLIBackend) async throws {
        try await withSetup(backend, survive: false, identity: true) { setup in
            await setup.sandbox.vendor.inject(
                SandboxFault(endpoint: .rotate, afterCommit: .delay, delayAfterCommitMS: 10_000))
            let vendor = setup.sandbox.vendor
            let appID = setup.sandbox.application.id
            _ = try await setup.killRotate { await vendor.application(appID)?.rotations == 1 }
            await vendor.clearFaults()
            // The app rotated with its own token, now dead; the identity is the way back.
            try await setup.cli.expectSuccess(["app", "set", "billing", "--identity", "ops"])
            let resolved = try await runOnce(setup)
            #expect(resolved.status == 0, "\(resolved)")
            try await setup.expectInSync()
            #expect(await setup.rotations() == 2)
        }
    }

    @Test(arguments: CLIBackend.allCases)
    func twoRotateProcessesAtOnceRotateOnce(backend: CLIBackend) async throws {
        try await withSetup(backend) { setup in
            await setup.sandbox.vendor.inject(SandboxFault(endpoint: .rotate, latencyMS: 500, count: nil))
            let first = try setup.cli.rotor.start(["rotate", "billing"])
            let second = try setup.cli.rotor.start(["rotate", "billing"])
            let results = [await first.wait(), await second.wait()]
            #expect(results.map(\.status).sorted() == [0, 1], "\(results)")
            #expect(await setup.rotations() == 1)
            try await setup.expectInSync()
        }
    }

    @Test(arguments: CLIBackend.allCases, [503, 429])
    func vendorErrorsAtEachStep(backend: CLIBackend, status: Int) async throws {
        try await withSetup(backend) { setup in
            let vendor = setup.sandbox.vendor
            // Authentication: nothing starts, exit 1.
            await vendor.inject(SandboxFault(endpoint: .grant, status: status, retryAfter: 0, count: nil))
            let auth = try await setup.cli.run(["rotate", "billing"])
            #expect(auth.status == 1, "\(auth)")
            #expect(auth.errorLines.count == 1)
            await vendor.clearFaults()
            // The rotate request refused once: the vendor did not rotate (aborted), and `rotate`
            // waits out Retry-After and tries again: rotated, exit 0.
            await vendor.inject(SandboxFault(endpoint: .rotate, status: status, retryAfter: 1))
            let rotate = try await setup.cli.run(["rotate", "billing"])
            #expect(rotate.status == 0, "\(rotate)")
            #expect(await setup.rotations() == 1)
            #expect(try await setup.states() == ["completed", "aborted"])
            // Refused for longer than `rotate` waits (Retry-After past its 2 minutes): exit 1 at once.
            await vendor.inject(SandboxFault(endpoint: .rotate, status: status, retryAfter: 600, count: nil))
            let refused = try await setup.cli.run(["rotate", "billing"])
            #expect(refused.status == 1, "\(refused)")
            #expect(refused.errorLines.count == 1)
            #expect(await setup.rotations() == 1)
            await vendor.clearFaults()
            // Verification: rotated and stored, verification pending, exit 3.
            await vendor.inject(SandboxFault(endpoint: .validate, status: status, retryAfter: 0, count: nil))
            let verify = try await setup.cli.run(["rotate", "billing", "--verify-timeout", "1s"])
            #expect(verify.status == 3, "\(verify)")
            try await setup.expectInSync()
            await vendor.clearFaults()
            #expect(try await runOnce(setup).status == 0)
            #expect(try await setup.states() == ["completed", "aborted", "completed", "aborted"])
            try await setup.expectInSync()
        }
    }

    @Test func aLockedDatabaseAtCommitSpillsAndTheNextRunImports() async throws {
        try await withSetup(.sqlite, environment: ["ROTOR_BUSY_TIMEOUT": "0.5"]) { setup in
            // The vendor acts on the rotate request only once another process holds the write lock.
            let vendor = setup.sandbox.vendor
            await vendor.hold(.rotate)
            let path = setup.cli.db
            let lock = Task {
                while await vendor.requestCount(.rotate) == 0 { try await Task.sleep(for: .milliseconds(5)) }
                let lock = try await HeldWriteLock.take(on: path)
                await vendor.release(.rotate)
                return lock
            }
            let result = try await setup.cli.run(["rotate", "billing"])
            await (try await lock.value).release()
            #expect(result.status == 4, "\(result)")
            #expect(result.errorLines.count == 1)
            #expect(result.stderr.contains("run --once"))
            let spills = SpillFile.paths(database: path)
            #expect(spills.count == 1)
            // The key cannot change while a pair sealed with it waits to be imported.
            let keyRotate = try await setup.cli.run(["key", "rotate"])
            #expect(keyRotate.status == 64)
            #expect(keyRotate.stderr.contains("run --once"))
            let resolved = try await runOnce(setup)
            #expect(resolved.status == 0, "\(resolved)")
            #expect(SpillFile.paths(database: path).isEmpty)
            #expect(await setup.rotations() == 1)
            try await setup.expectInSync()
        }
    }

    /// PostgreSQL gone when the answer arrives (postgres.md, "Losing the
    /// database"): the pair is spilled, sealed, to the spill directory and
    /// the command exits 4; once the server is back, the next run imports it.
    @Test func aDatabaseDownAtCommitSpillsAndTheNextRunImports() async throws {
        let server = try await PostgresServer.start()
        let database = try await SharedPostgres.Database.create(on: server)
        try await withSetup(.postgres, on: database) { setup in
            // The vendor acts on the rotate request only once the server is down.
            let vendor = setup.sandbox.vendor
            await vendor.hold(.rotate)
            let down = Task {
                while await vendor.requestCount(.rotate) == 0 { try await Task.sleep(for: .milliseconds(5)) }
                try await server.stop()
                await vendor.release(.rotate)
            }
            let running = try setup.cli.rotor.start(["rotate", "billing"])
            let guardTimer = Task {
                try await Task.sleep(for: .seconds(90))
                running.kill(SIGKILL)
            }
            let result = await running.wait()
            guardTimer.cancel()
            try await down.value
            #expect(result.status == 4, "\(result)")
            #expect(result.errorLines.count == 1, "\(result)")
            #expect(!result.stderr.contains(PostgresServer.password))
            let spills = SpillFile.paths(database: setup.cli.directory.file("rotor-rotor@127.0.0.1-\(server.port)"))
            #expect(spills.count == 1, "\(result)")
            let unavailable = try await runOnce(setup)
            #expect(unavailable.status != 0 && unavailable.errorLines.count == 1, "\(unavailable)")
            try await server.restart()
            let resolved = try await runOnce(setup)
            #expect(resolved.status == 0, "\(resolved)")
            #expect(SpillFile.paths(database: setup.cli.directory.file("rotor-rotor@127.0.0.1-\(server.port)")).isEmpty)
            #expect(await setup.rotations() == 1)
            try await setup.expectInSync()
        }
        try await server.stop()
    }
}
