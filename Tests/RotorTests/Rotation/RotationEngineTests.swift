import Foundation
import GRDB
import RotorCore
import RotorSQLite
import RotorTesting
import Testing
import VitaleraClient
import VitaleraSandbox

/// The state machine in process: a real SQLite file, the sandbox vendor on a
/// loopback port, every row of `rotation.md`'s resolution table.
struct RotationEngineTests {
    /// A database with app `billing` registered with the sandbox's pair.
    struct Setup {
        let db: TestDatabase
        let sandbox: SandboxFixture
        let client: VitaleraHTTPClient
        let identity: Bool

        func engine(owner: String = LeaseOwner.make()) -> RotationEngine {
            RotationEngine(
                ledger: db.ledger, api: client, databasePath: db.path, owner: owner,
                verification: RetryPolicy(base: 0.1, cap: 0.5, deadline: 2, maxAttempts: 4))
        }

        func stored() async throws -> (clientID: String, secret: String) {
            let pair = try await db.registry.reveal("billing")
            return (pair.clientID, pair.clientSecret.reveal())
        }

        /// The stored pair is the one the vendor holds now.
        func expectInSync(sourceLocation: SourceLocation = #_sourceLocation) async throws {
            let vendor = await sandbox.currentPair()
            let stored = try await stored()
            #expect(stored.clientID == vendor.clientID, sourceLocation: sourceLocation)
            #expect(stored.secret == vendor.clientSecret, sourceLocation: sourceLocation)
        }

        func actions() throws -> [String] {
            try db.store.withConnection { try String.fetchAll($0, sql: "SELECT action FROM audit_events ORDER BY id") }
        }

        func rotations() async -> Int {
            await sandbox.vendor.application(sandbox.application.id)?.rotations ?? -1
        }
    }

    func withSetup(
        survive: Bool = true, identity: Bool = false, busyTimeout: TimeInterval = 15,
        _ body: (Setup) async throws -> Void
    ) async throws {
        let db = try await TestDatabase(busyTimeout: busyTimeout)
        try await withSandbox(settings: SandboxSettings(tokensSurviveRotation: survive)) { sandbox in
            try await withClient(retry: .none) { client in
                if identity {
                    try await IdentityRegistry(ledger: db.ledger, api: client).add(
                        name: "ops", username: sandbox.user.username, password: Secret(sandbox.user.password),
                        apiURL: sandbox.url)
                }
                try await db.registry.add(sandbox.appSpec(), verify: false)
                let setup = Setup(db: db, sandbox: sandbox, client: client, identity: identity)
                try await body(setup)
                #expect(try await AuditLog(ledger: db.ledger).verify().isIntact)
            }
        }
    }

    /// A scheduled rotation records its intent only for a claimed
    /// occurrence, and consumes it there: no due time is rotated twice.
    @Test func anOccurrenceIsRotatedOnlyOnceAndOnlyWhenClaimed() async throws {
        try await withSetup { setup in
            let app = try #require(try await setup.db.ledger.read { try $0.app(named: "billing") })
            let due = setup.db.clock.now
            let occurrence = OccurrenceRecord(
                appID: app.id, due: due, jitterMS: 0, startAt: due, covers: 1, state: .pending, rotationID: nil)
            let engine = setup.engine()
            // Not claimed: the intent refuses it.
            await #expect(throws: RotorError.self) {
                _ = try await engine.rotate(app, trigger: .schedule, occurrenceDue: due)
            }
            #expect(await setup.rotations() == 0)
            let outcome = try #require(try await engine.rotate(app, occurrence: occurrence))
            #expect(outcome.state == .completed, "\(outcome.message)")
            let stored = try await setup.db.ledger.read { try $0.occurrence(appID: app.id, due: due) }
            #expect(stored?.state == .done)
            #expect(stored?.rotationID == outcome.rotationID)
            // Consumed: neither a claim nor an intent can use it again.
            let again = try await engine.rotate(app, occurrence: occurrence)
            #expect(again == nil)
            await #expect(throws: RotorError.self) {
                _ = try await engine.rotate(app, trigger: .schedule, occurrenceDue: due)
            }
            #expect(await setup.rotations() == 1)
            try await setup.expectInSync()
        }
    }

    @Test func aRotationRunsToCompletion() async throws {
        try await withSetup { setup in
            let outcome = try await setup.engine().rotate("billing")
            #expect(outcome.state == .completed, "\(outcome.message)")
            #expect(outcome.exitStatus == .success)
            #expect(await setup.rotations() == 1)
            try await setup.expectInSync()
            let actions = try setup.actions()
            #expect(
                actions == [
                    "app.added", "rotation.started", "rotation.rotated", "rotation.verified", "rotation.completed",
                    "secret.revealed",
                ], "\(actions)")
            // The superseded secret and the authorising token are gone from the database.
            let wiped = try setup.db.store.withConnection {
                try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM credentials WHERE client_secret IS NULL")
            }
            #expect(wiped == 1)
            let tokens = try setup.db.store.withConnection {
                try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM rotations WHERE auth_token IS NOT NULL")
            }
            #expect(tokens == 0)
            // And again: each rotation starts from the pair the last one stored.
            #expect(try await setup.engine().rotate("billing").state == .completed)
            try await setup.expectInSync()
            // What it reported was on disk before: a flush now has nothing to sync.
            let syncs = setup.db.store.syncCount
            try await setup.db.ledger.flush()
            #expect(setup.db.store.syncCount == syncs)
        }
    }

    @Test func aRefusedRotationIsAbortedAndChangesNothing() async throws {
        try await withSetup { setup in
            await setup.sandbox.vendor.inject(SandboxFault(endpoint: .rotate, status: 403))
            let outcome = try await setup.engine().rotate("billing")
            #expect(outcome.state == .aborted)
            // A clear refusal: the app needs an operator.
            #expect(outcome.exitStatus == .operatorAction)
            #expect(await setup.rotations() == 0)
            try await setup.expectInSync()
            #expect(try await setup.db.registry.list().first?.credential.version == 1)
        }
    }

    @Test func rowOneAnErrorBeforeTheCommitIsAborted() async throws {
        try await withSetup { setup in
            // A 503 before the vendor commits: ambiguous to the client, resolved by asking.
            await setup.sandbox.vendor.inject(SandboxFault(endpoint: .rotate, status: 503))
            let outcome = try await setup.engine().rotate("billing")
            #expect(outcome.state == .aborted, "\(outcome.message)")
            #expect(outcome.exitStatus == .failed)
            try await setup.expectInSync()
        }
    }

    @Test(arguments: [SandboxFault.AfterCommit.drop, .garbage])
    func rowTwoALostAnswerIsRecoveredWithTheOriginalToken(fault: SandboxFault.AfterCommit) async throws {
        try await withSetup(survive: true) { setup in
            await setup.sandbox.vendor.inject(SandboxFault(endpoint: .rotate, afterCommit: fault))
            let outcome = try await setup.engine().rotate("billing")
            #expect(outcome.state == .completed, "\(outcome.message)")
            #expect(await setup.rotations() == 2)  // the lost one, and the recovery
            try await setup.expectInSync()
            #expect(try setup.actions().contains("rotation.recovered"))
        }
    }

    /// Runs `change` once the vendor has received the rotate request.
    func whenRotateArrives(_ setup: Setup, _ change: @escaping @Sendable () async throws -> Void) -> Task<
        Void, any Error
    > {
        let vendor = setup.sandbox.vendor
        return Task {
            while await vendor.requestCount(.rotate) == 0 { try await Task.sleep(for: .milliseconds(5)) }
            try await change()
        }
    }

    @Test func rowThreeALostAnswerIsRecoveredWithTheIdentity() async throws {
        try await withSetup(survive: false, identity: true) { setup in
            // Rotated with the app's own token, which dies with the rotation; the answer is lost.
            await setup.sandbox.vendor.inject(SandboxFault(endpoint: .rotate, latencyMS: 200, afterCommit: .drop))
            let registry = setup.db.registry
            let attach = whenRotateArrives(setup) {
                var changes = AppChanges()
                changes.identity = .some("ops")
                try await registry.set("billing", changes, verify: false)
            }
            let outcome = try await setup.engine().rotate("billing")
            try await attach.value
            #expect(outcome.state == .completed, "\(outcome.message)")
            #expect(await setup.rotations() == 2)
            try await setup.expectInSync()
            #expect(try setup.actions().contains("rotation.recovered"))
        }
    }

    @Test func rowThreeWithAnIdentityFromTheStart() async throws {
        try await withSetup(survive: false, identity: true) { setup in
            try await setup.db.registry.set(
                "billing",
                {
                    var c = AppChanges(); c.identity = .some("ops"); return c
                }(), verify: false)
            await setup.sandbox.vendor.inject(SandboxFault(endpoint: .rotate, afterCommit: .drop))
            let outcome = try await setup.engine().rotate("billing")
            // The identity's token survives the rotation (user tokens are not tied to the app), so row 2 applies;
            // either way the pair is recovered.
            #expect(outcome.state == .completed, "\(outcome.message)")
            try await setup.expectInSync()
            #expect(try setup.actions().contains("rotation.recovered"))
        }
    }

    @Test func rowFourNoValidTokenIsLost() async throws {
        try await withSetup(survive: false) { setup in
            await setup.sandbox.vendor.inject(SandboxFault(endpoint: .rotate, afterCommit: .drop))
            let outcome = try await setup.engine().rotate("billing")
            #expect(outcome.state == .lost, "\(outcome.message)")
            #expect(outcome.exitStatus == .operatorAction)
            #expect(outcome.message.contains("rotor app set billing --client-id"))
            #expect(await setup.rotations() == 1)
            // The way back: the vendor's support issues a pair; `app set` stores it.
            let vendor = await setup.sandbox.currentPair()
            var changes = AppChanges()
            changes.pair = ClientPair(clientID: vendor.clientID, secret: Secret(vendor.clientSecret))
            try await setup.db.registry.set("billing", changes, verify: false)
            try await setup.expectInSync()
            #expect(try await setup.engine().rotate("billing").state == .completed)
        }
    }

    @Test func rowFiveAnUnreachableVendorLeavesItRequestingUntilItAnswers() async throws {
        try await withSetup(survive: true) { setup in
            await setup.sandbox.vendor.inject(SandboxFault(endpoint: .rotate, latencyMS: 200, afterCommit: .drop))
            let vendor = setup.sandbox.vendor
            let outage = whenRotateArrives(setup) {
                await vendor.inject(SandboxFault(endpoint: .grant, status: 503, count: nil))
            }
            let engine = setup.engine()
            let outcome = try await engine.rotate("billing")
            try await outage.value
            #expect(outcome.state == .requesting, "\(outcome.message)")
            #expect(outcome.exitStatus == .operatorAction)
            // A new rotation is refused while this one is unresolved.
            let refused = try await engine.rotate("billing")
            #expect(refused.exitStatus == .failed)
            #expect(refused.message.contains("still requesting"))
            #expect(await setup.rotations() == 1)
            // The vendor is back: the next run resolves it.
            await vendor.clearFaults()
            let outcomes = try await engine.resolveAll()
            #expect(outcomes.map(\.state) == [.completed], "\(outcomes)")
            try await setup.expectInSync()
        }
    }

    @Test func verificationThatKeepsFailingEndsFailedAndIsRetriedLater() async throws {
        try await withSetup { setup in
            await setup.sandbox.vendor.inject(SandboxFault(endpoint: .validate, status: 503, count: nil))
            let outcome = try await setup.engine().rotate("billing")
            #expect(outcome.state == .failed, "\(outcome.message)")
            #expect(outcome.exitStatus == .pending)
            try await setup.expectInSync()  // stored, never reverted
            await setup.sandbox.vendor.clearFaults()
            let later = try await setup.engine().resolveAll()
            #expect(later.map(\.state) == [.completed])
        }
    }

    @Test func twoEnginesAtOnceRotateOnce() async throws {
        try await withSetup { setup in
            await setup.sandbox.vendor.inject(SandboxFault(endpoint: .rotate, latencyMS: 300, count: nil))
            async let first = setup.engine().rotate("billing")
            async let second = setup.engine().rotate("billing")
            let results = await [try? first, try? second]
            #expect(results.compactMap { $0 }.filter { $0.state == .completed }.count == 1)
            #expect(await setup.rotations() == 1)
            try await setup.expectInSync()
        }
    }

    @Test func aLockedDatabaseAtCommitSpillsThePairAndTheNextRunImportsIt() async throws {
        try await withSetup(busyTimeout: 0.5) { setup in
            // The vendor acts on the rotate request only once another process holds the write lock.
            let vendor = setup.sandbox.vendor
            await vendor.hold(.rotate)
            let path = setup.db.path
            let lock = Task {
                while await vendor.requestCount(.rotate) == 0 { try await Task.sleep(for: .milliseconds(5)) }
                let lock = try await HeldWriteLock.take(on: path)
                await vendor.release(.rotate)
                return lock
            }
            // One engine throughout: its lease could not be released while the lock was held,
            // and a crashed process's lease is taken over the same way (its pid is gone).
            let engine = setup.engine()
            do {
                _ = try await engine.rotate("billing")
                Issue.record("the commit went through a held lock")
            } catch let error as RotorError {
                #expect(error.exitStatus == .operatorAction)
                #expect(error.message.contains("spill"))
            }
            await (try await lock.value).release()
            let spills = SpillFile.paths(database: setup.db.path)
            try #require(spills.count == 1)
            let spill = spills[0]
            #expect(Files.mode(spill) == 0o600)
            let vendorPair = await setup.sandbox.currentPair()
            #expect(
                try Data(contentsOf: URL(fileURLWithPath: spill)).range(of: Data(vendorPair.clientSecret.utf8))
                    == nil)
            let outcomes = try await engine.resolveAll()
            #expect(outcomes.map(\.state) == [.completed], "\(outcomes)")
            #expect(SpillFile.paths(database: setup.db.path).isEmpty)
            #expect(await setup.rotations() == 1)
            try await setup.expectInSync()
        }
    }
}
