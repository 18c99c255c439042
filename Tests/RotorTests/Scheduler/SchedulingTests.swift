import Foundation
import GRDB
import RotorCore
import RotorSQLite
import RotorTesting
import Testing
import VitaleraClient
import VitaleraSandbox

/// The scheduler in process: a real SQLite file, the sandbox vendor on a
/// loopback port, real hook processes, and time moved by hand
/// (`rotation.md`, "Scheduling: when work is due" and "An app that needs an operator").
struct SchedulingTests {
    struct Setup {
        let db: TestDatabase
        let sandbox: SandboxFixture
        let client: VitaleraHTTPClient

        var clock: InstantClock { db.clock }

        func engine(owner: String = LeaseOwner.make()) -> RotationEngine {
            let delivery = DeliveryService(ledger: db.ledger)
            return RotationEngine(
                ledger: db.ledger, api: client, databasePath: db.path, owner: owner,
                verification: RetryPolicy(base: 0.1, cap: 0.5, deadline: 2, maxAttempts: 4), inFlightWindow: 60,
                deliverer: delivery, alerts: delivery.alerts)
        }

        func scheduler(owner: String = LeaseOwner.make()) -> Scheduler {
            Scheduler(engine: engine(owner: owner), delivery: DeliveryService(ledger: db.ledger))
        }

        /// One pass of `rotor run`, `seconds` after the last.
        @discardableResult
        func pass(after seconds: TimeInterval = 0, _ scheduler: Scheduler? = nil) async throws -> [RotationOutcome] {
            clock.advance(by: seconds)
            return try await (scheduler ?? self.scheduler()).pass(all: false, stop: StopSignal()).outcomes
        }

        func rotations() async -> Int {
            await sandbox.vendor.application(sandbox.application.id)?.rotations ?? -1
        }

        func set(_ change: (inout AppChanges) -> Void) async throws {
            var changes = AppChanges()
            change(&changes)
            try await db.registry.set("billing", changes, verify: false)
        }

        func status() async throws -> AppStatus {
            let statuses = try await StatusReport.build(ledger: db.ledger)
            guard let first = statuses.first else { throw RotorError(.notFound, "no status") }
            return first
        }

        /// A manual rotation's intent, as a process records it before its request.
        func recordIntent() async throws -> RotationRecord {
            let app = try await app()
            return try await db.ledger.commit { tx in
                try tx.store.insertRotation(
                    NewRotation(appID: app.id, trigger: .manual, fromVersion: 1, authKind: .app), at: tx.now
                ) { id in try tx.keyring.seal(Secret("a token"), for: .rotationAuth(rotationID: id)) }
            }
        }

        func app() async throws -> AppRecord {
            guard let app = try await db.ledger.read({ try $0.app(named: "billing") }) else {
                throw RotorError(.notFound, "no app billing")
            }
            return app
        }

        func expectInSync(sourceLocation: SourceLocation = #_sourceLocation) async throws {
            let vendor = await sandbox.currentPair()
            let stored = try await db.registry.reveal("billing")
            #expect(stored.clientSecret.reveal() == vendor.clientSecret, sourceLocation: sourceLocation)
        }
    }

    func withSetup(schedule: Schedule = .every(seconds: 3600), _ body: (Setup) async throws -> Void) async throws {
        let db = try await TestDatabase()
        try await withSandbox { sandbox in
            try await withClient(retry: .none) { client in
                try await db.registry.add(sandbox.appSpec(schedule: schedule), verify: false)
                try await body(Setup(db: db, sandbox: sandbox, client: client))
                #expect(try await AuditLog(ledger: db.ledger).verify().isIntact)
            }
        }
    }

    @Test func anEditTakesEffectAtOnce() async throws {
        try await withSetup(schedule: .every(seconds: 30 * 86400)) { setup in
            #expect(try await setup.pass().isEmpty)
            // Shortened on a 2-day-old pair: due now.
            setup.clock.advance(by: 2 * 86400)
            try await setup.set { $0.schedule = .every(seconds: 86400) }
            let status = try await setup.status()
            #expect(status.health == .due)
            #expect(status.nextDue.map { $0 <= setup.clock.now } == true)
            let listed = try #require(try await setup.db.registry.list().first)
            #expect(listed.nextDue(at: setup.clock.now) == status.nextDue)
            let outcomes = try await setup.pass()
            #expect(outcomes.map(\.state) == [.completed], "\(outcomes)")
            #expect(await setup.rotations() == 1)
            // No schedule: nothing planned fires, however late it gets.
            try await setup.set { $0.schedule = Schedule.none }
            #expect(try await setup.pass(after: 5 * 86400).isEmpty)
            #expect(await setup.rotations() == 1)
            #expect(try await setup.status().nextDue == nil)
        }
    }

    @Test func aManualRotationMovesTheNextDueTime() async throws {
        try await withSetup { setup in
            setup.clock.advance(by: 1800)
            #expect(try await setup.engine().rotate("billing").state == .completed)
            let stored = try #require(try await setup.db.registry.list().first)
            #expect(try await setup.status().nextDue == stored.credential.createdAt.addingTimeInterval(3600))
            // The old pair's due time (1 h after it was added) passes without a rotation.
            #expect(try await setup.pass(after: 2400).isEmpty)
            #expect(try await setup.pass(after: 1300).map(\.state) == [.completed])
            #expect(await setup.rotations() == 2)
        }
    }

    @Test func twoSchedulersRotateOnceForOneDueTime() async throws {
        try await withSetup { setup in
            await setup.sandbox.vendor.inject(SandboxFault(endpoint: .rotate, latencyMS: 300, count: nil))
            setup.clock.advance(by: 3600)
            let first = setup.scheduler()
            let second = setup.scheduler()
            async let a = first.pass(all: false, stop: StopSignal())
            async let b = second.pass(all: false, stop: StopSignal())
            let outcomes = try await a.outcomes + b.outcomes
            #expect(outcomes.map(\.state) == [.completed], "\(outcomes)")
            #expect(await setup.rotations() == 1)
            // The next pass of either finds the due time handled: it counts from the new pair.
            #expect(try await setup.pass(after: 1, first).isEmpty)
            #expect(try await setup.pass(after: 0, second).isEmpty)
            try await setup.expectInSync()
        }
    }

    @Test func aTransientRefusalIsRetriedWithinItsOccurrence() async throws {
        try await withSetup(schedule: .every(seconds: 30 * 86400)) { setup in
            await setup.sandbox.vendor.inject(SandboxFault(endpoint: .rotate, status: 503, retryAfter: 120))
            let outcomes = try await setup.pass(after: 30 * 86400)
            #expect(outcomes.map(\.state) == [.aborted], "\(outcomes)")
            let app = try await setup.app()
            let occurrence = try #require(try await setup.db.ledger.read { try $0.latestOccurrence(appID: app.id) })
            #expect(occurrence.state == .pending)
            #expect(occurrence.attempts == 1)
            #expect(occurrence.retryAt.map { $0 >= setup.clock.now.addingTimeInterval(119) } == true)
            let status = try await setup.status()
            #expect(status.health == .retrying)
            #expect(status.health.exitStatus == .pending)
            #expect(status.reason?.contains("attempt 1") == true, "\(status.reason ?? "")")
            // Not at the next pass: Retry-After says two minutes.
            let requests = await setup.sandbox.vendor.requestCount(.rotate)
            #expect(try await setup.pass(after: 5).isEmpty)
            #expect(await setup.sandbox.vendor.requestCount(.rotate) == requests)
            // After it, the same occurrence: not 30 days later.
            let retried = try await setup.pass(after: 120)
            #expect(retried.map(\.state) == [.completed], "\(retried)")
            #expect(await setup.rotations() == 1)
            let done = try #require(
                try await setup.db.ledger.read { try $0.occurrence(appID: app.id, due: occurrence.due) })
            #expect(done.state == .done)
            try await setup.expectInSync()
        }
    }

    @Test func aClearRefusalNeedsAnOperatorUntilARotationSucceeds() async throws {
        try await withSetup { setup in
            await setup.sandbox.vendor.inject(SandboxFault(endpoint: .rotate, status: 403))
            let refused = try await setup.pass(after: 3600)
            #expect(refused.map(\.state) == [.aborted])
            #expect(refused.map(\.exitStatus) == [.operatorAction])
            let status = try await setup.status()
            #expect(status.health == .needsAction)
            #expect(status.health.exitStatus == .operatorAction)
            #expect(status.reason?.contains("rotor rotate billing") == true, "\(status.reason ?? "")")
            #expect(status.nextDue == nil)
            // Scheduled rotation stops: no request, however long.
            let requests = await setup.sandbox.vendor.requestCount(.rotate)
            #expect(try await setup.pass(after: 7200).isEmpty)
            #expect(await setup.sandbox.vendor.requestCount(.rotate) == requests)
            let actions = try setup.db.store.withConnection {
                try String.fetchAll($0, sql: "SELECT action FROM audit_events WHERE action = 'app.needs_action'")
            }
            #expect(actions.count == 1)
            // The cause is fixed at the vendor; the operator rotates by hand, and the schedule resumes.
            #expect(try await setup.engine().rotate("billing").state == .completed)
            #expect(try await setup.app().attention == nil)
            #expect(try await setup.status().health == .ok)
            #expect(try await setup.pass(after: 3601).map(\.state) == [.completed])
        }
    }

    @Test func aPairChangedOutsideRotorNeedsAnOperator() async throws {
        try await withSetup { setup in
            try await setup.set {
                $0.pair = ClientPair(clientID: setup.sandbox.application.clientID, secret: Secret("not-the-vendor's"))
            }
            let outcomes = try await setup.pass(after: 3600)
            #expect(outcomes.map(\.exitStatus) == [.operatorAction], "\(outcomes)")
            let status = try await setup.status()
            #expect(status.health == .needsAction)
            #expect(status.reason?.contains("changed outside Rotor") == true)
            #expect(status.reason?.contains("rotor app set billing --client-id") == true)
            #expect(try await setup.pass(after: 3600).isEmpty)
            // The operator stores the vendor's pair: needs-action ends.
            try await setup.set {
                $0.pair = ClientPair(
                    clientID: setup.sandbox.application.clientID, secret: Secret(setup.sandbox.application.clientSecret)
                )
            }
            #expect(try await setup.status().health == .ok)
        }
    }

    @Test func aRotationWhoseRequestMayBeInFlightIsNotConcludedAborted() async throws {
        try await withSetup { setup in
            // A process recorded its intent and died; its request may still reach the vendor.
            let record = try await setup.recordIntent()
            let engine = setup.engine()
            setup.clock.advance(by: 1)
            let early = try await engine.resume(record.id)
            #expect(early.state == .requesting, "\(early.message)")
            #expect(early.exitStatus == .pending)
            #expect(early.nextAttemptAt == record.startedAt.addingTimeInterval(60))
            #expect(try await setup.status().health == .rotating)
            // A pass before the window has passed leaves it alone.
            #expect(try await setup.pass(after: 30).isEmpty)
            let outcomes = try await setup.pass(after: 30)
            #expect(outcomes.map(\.state) == [.aborted], "\(outcomes)")
            #expect(await setup.rotations() == 0)
        }
    }

    @Test func aRotationAnotherLiveProcessHoldsIsLeftToItSilently() async throws {
        try await withSetup { setup in
            let app = try await setup.app()
            let record = try await setup.recordIntent()
            // Another process (this one: alive) holds the app while it resolves the rotation.
            let held: Void? = try await setup.db.ledger.withLease(
                Lease.app(app.id), owner: LeaseOwner.make(), duration: 3600
            ) { _ in
                // The daemon's pass says nothing about it; `run --once` reports it (exit 1).
                #expect(try await setup.pass(after: 120).isEmpty)
                let once = try await setup.scheduler().runOnce()
                #expect(once.map(\.rotationID) == [record.id], "\(once)")
                #expect(once.map(\.exitStatus) == [.failed])
                #expect(once.first?.message.contains("another process") == true)
            }
            #expect(held != nil)
        }
    }

    @Test func aNewTargetIsDeliveredByTheNextPass() async throws {
        try await withSetup(schedule: Schedule.none) { setup in
            let path = setup.db.directory.file("creds.env")
            _ = try await TargetRegistry(ledger: setup.db.ledger).add(app: "billing", .file(FileTarget(path: path)))
            #expect(try await setup.status().health == .pendingDelivery)
            _ = try await setup.pass()
            let written = try String(contentsOfFile: path, encoding: .utf8)
            #expect(written.contains(setup.sandbox.application.clientSecret))
            #expect(try await setup.status().health == .ok)
        }
    }

    @Test func aFailingHookBacksOffInsteadOfSpinning() async throws {
        try await withSetup(schedule: Schedule.none) { setup in
            let counter = setup.db.directory.file("attempts")
            _ = try await TargetRegistry(ledger: setup.db.ledger).add(
                app: "billing", .exec(ExecTarget(command: "echo x >> \(counter); exit 3")))
            let scheduler = setup.scheduler()
            // An hour of passes every 10 s.
            for _ in 0..<360 { try await setup.pass(after: 10, scheduler) }
            let attempts = try String(contentsOfFile: counter, encoding: .utf8).split(separator: "\n").count
            // 30 s doubling with full jitter, capped at 1 h: a handful an hour, never one a pass.
            #expect((2...20).contains(attempts), "\(attempts) attempts")
            let status = try await setup.status()
            #expect(status.health == .failed || status.health == .retrying)
            #expect(status.reason?.contains("status 3") == true, "\(status.reason ?? "")")
        }
    }

    @Test func theLoopIsAliveOnlyWhileItRuns() async throws {
        try await withSetup { setup in
            let scheduler = setup.scheduler()
            #expect(scheduler.liveness(now: setup.clock.now) != nil)
            let stop = StopSignal()
            let loop = Task { try await scheduler.run(until: stop) }
            var alive = false
            for _ in 0..<200 where !alive {
                alive = scheduler.liveness(now: setup.clock.now) == nil
                if !alive { try await Task.sleep(for: .milliseconds(10)) }
            }
            #expect(alive)
            stop.stop()
            try await loop.value
            #expect(scheduler.liveness(now: setup.clock.now) != nil)
        }
    }
}
