import Foundation
import RotorCore
import RotorTesting
import Testing

struct FileTargetTests {
    let document = DeliveryDocument(
        applicationID: "app-1", clientID: "cid-2", clientSecret: Secret("s3cr3t\"x"), version: 2,
        rotatedAt: Date(timeIntervalSince1970: 1_800_000_000))

    @Test func formatsAreByteForByte() {
        #expect(
            String(decoding: document.env, as: UTF8.self)
                == "VITALERA_APPLICATION_ID=app-1\nVITALERA_CLIENT_ID=cid-2\nVITALERA_CLIENT_SECRET=s3cr3t\"x\n")
        #expect(
            String(decoding: document.json, as: UTF8.self)
                == #"{"application_id":"app-1","client_id":"cid-2","client_secret":"s3cr3t\"x","version":2,"rotated_at":"2027-01-15T08:00:00.000Z"}"#
                + "\n")
        #expect(String(decoding: document.raw, as: UTF8.self) == "s3cr3t\"x")
    }

    @Test(arguments: FileTarget.Format.allCases)
    func writtenFilesHoldTheFormatWithTheMode(format: FileTarget.Format) throws {
        let dir = TemporaryDirectory()
        let path = dir.file("creds")
        #expect(try FileWriter.write(document.bytes(format), to: FileTarget(path: path, format: format)) == .written)
        #expect(Array(try dir.read("creds")) == document.bytes(format))
        #expect(Files.mode(path) == 0o600)
        try FileWriter.write(document.bytes(format), to: FileTarget(path: path, format: format, mode: 0o640))
        #expect(Files.mode(path) == 0o640)
        // Nothing else is left in the directory.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["creds"])
    }

    @Test func identicalContentIsLeftAlone() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("creds")
        try FileWriter.write(document.env, to: FileTarget(path: path))
        let before = try #require(Files.status(path))
        #expect(try FileWriter.write(document.env, to: FileTarget(path: path)) == .unchanged)
        let after = try #require(Files.status(path))
        #expect(before.st_ino == after.st_ino)
        #expect(before.st_mtim.tv_nsec == after.st_mtim.tv_nsec)
    }

    @Test func atomicReplaceChangesTheInodeAndInPlaceKeepsIt() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("creds")
        try dir.write("creds", "old content that is longer than the new one, by quite a bit\n")
        let original = try #require(Files.status(path)).st_ino
        try FileWriter.write(document.env, to: FileTarget(path: path, inPlace: true))
        #expect(try #require(Files.status(path)).st_ino == original)
        #expect(Array(try dir.read("creds")) == document.env)
        try FileWriter.write(document.json, to: FileTarget(path: path, format: .json))
        #expect(try #require(Files.status(path)).st_ino != original)
    }

    @Test func aSymlinkIsRefused() throws {
        let dir = TemporaryDirectory()
        try dir.write("real", "x")
        symlink(dir.file("real"), dir.file("link"))
        #expect(throws: RotorError.self) { try FileWriter.write(document.env, to: FileTarget(path: dir.file("link"))) }
        #expect(try dir.read("real") == Data("x".utf8))
    }

    @Test func aMissingDirectoryIsAClearError() {
        do {
            try FileWriter.write(document.env, to: FileTarget(path: "/nonexistent-dir-\(UUID())/creds"))
            Issue.record("wrote into a missing directory")
        } catch {
            #expect(error.message.contains("does not exist"))
            #expect(!error.message.contains("s3cr3t"))
        }
    }

    @Test func leftoverTemporaryFilesAreRemoved() throws {
        let dir = TemporaryDirectory()
        try dir.write(".creds.rotor-123.tmp", "half a secret")
        try FileWriter.write(document.env, to: FileTarget(path: dir.file("creds")))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["creds"])
    }
}

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

struct OwnershipTests {
    @Test func ownerAndGroupAreAppliedAsRoot() throws {
        let dir = TemporaryDirectory()
        let target = FileTarget(path: dir.file("creds"), owner: "nobody", group: "nogroup")
        let document = DeliveryDocument(
            applicationID: "a", clientID: "c", clientSecret: Secret("s"), version: 1, rotatedAt: Date())
        guard geteuid() == 0 else {
            #expect(throws: RotorError.self) { try FileWriter.write(document.env, to: target) }
            return
        }
        try FileWriter.write(document.env, to: target)
        let info = try #require(Files.status(dir.file("creds")))
        let nobody = try #require(getpwnam("nobody")).pointee.pw_uid
        let nogroup = try #require(getgrnam("nogroup")).pointee.gr_gid
        #expect(info.st_uid == nobody)
        #expect(info.st_gid == nogroup)
        #expect(try FileWriter.write(document.env, to: target) == .unchanged)
    }
}

struct DeliveryOrderTests {
    @Test func aTargetNeverReceivesAnOlderVersionAfterANewerOne() async throws {
        let db = try TestDatabase()
        try await db.addApp("billing", secret: "first")
        var changes = AppChanges()
        changes.pair = ("client-2", Secret("second"))
        try await db.registry.set("billing", changes, verify: false)
        let path = db.directory.file("creds.env")
        try TargetRegistry(ledger: db.ledger).add(app: "billing", .file(FileTarget(path: path)))
        let service = DeliveryService(ledger: db.ledger)
        let app = try #require(try db.registry.list().first).app
        guard let held = try await db.ledger.acquireLease(Lease.app(app.id), owner: "test", duration: 60) else {
            Issue.record("no lease")
            return
        }
        let newer = try await service.deliverAll(
            appID: app.id, version: 2, rotationID: nil, lease: held.lease, force: false)
        #expect(newer.map(\.state) == [.succeeded])
        let older = try await service.deliverAll(
            appID: app.id, version: 1, rotationID: nil, lease: held.lease, force: true)
        #expect(older.map(\.state) == [.superseded])
        #expect(String(decoding: try db.directory.read("creds.env"), as: UTF8.self).contains("second"))
        db.ledger.releaseLease(held)
    }
}
