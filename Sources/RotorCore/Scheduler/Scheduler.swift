import Foundation
import Logging

/// Set once to stop the scheduler at its next safe point; wakes it if asleep.
public final class StopSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    private var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    private var nextID: UInt64 = 0

    public init() {}

    public var isStopped: Bool { lock.withLock { stopped } }

    public func stop() {
        let toWake: [CheckedContinuation<Void, Never>] = lock.withLock {
            stopped = true
            defer { waiters = [:] }
            return Array(waiters.values)
        }
        for waiter in toWake { waiter.resume() }
    }

    /// Returns when stopped, or when the waiting task is cancelled.
    func wait() async {
        let id: UInt64 = lock.withLock {
            nextID += 1
            return nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow: Bool = lock.withLock {
                    if stopped || Task.isCancelled { return true }
                    waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = lock.withLock { waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }
}

/// `rotor run`: rotates apps as they fall due, retries verifications and
/// deliveries on their backoff, and resolves unfinished rotations first.
/// It sleeps until the next due time (checking for changes made with the
/// CLI every `pollInterval`); up to `concurrency` rotations run at once.
public final class Scheduler: Sendable {
    public let engine: RotationEngine
    public let delivery: DeliveryService
    public let concurrency: Int
    public let pollInterval: TimeInterval
    public let logger: Logger
    /// False when the caller prints each outcome itself (`run --once`), so
    /// that a failure is not told twice.
    public let logsOutcomes: Bool
    /// Hears how many of a pass's due rotations have ended (`run --once` on a terminal).
    public let progress: ProgressReport?
    private let state = State()

    var ledger: Ledger { engine.ledger }
    var groups: GroupDelivery { GroupDelivery(ledger: ledger, spawner: delivery.spawner) }

    public init(
        engine: RotationEngine, delivery: DeliveryService, concurrency: Int = 4, pollInterval: TimeInterval = 5,
        logger: Logger = Logger(label: "rotor.scheduler"), logsOutcomes: Bool = true,
        progress: ProgressReport? = nil
    ) {
        self.logsOutcomes = logsOutcomes
        self.progress = progress
        self.engine = engine
        self.delivery = delivery
        self.concurrency = max(1, concurrency)
        self.pollInterval = pollInterval
        self.logger = logger
    }

    /// What one pass did, and when the next one is needed.
    public struct Pass: Sendable {
        public var outcomes: [RotationOutcome]
        public var nextWake: Date?
    }

    /// Cached between passes so an idle daemon does not rescan every app.
    final class State: @unchecked Sendable {
        let lock = NSLock()
        var changeMark: Int64?
        var earliestStart: Date?
        /// The earliest retry of a delivery or a rotation, as the last pass saw it.
        var nextRetry: Date?
        var dirty = true
        /// The loop's beat: when the current pass began (nil between passes), when the last one ended.
        var passStartedAt: Date?
        var passEndedAt: Date?
        var loopRunning = false
    }

    /// Why the loop is not alive, or nil when it is: `run` is looping, and
    /// its current pass began less than `longestPass` ago or it is asleep
    /// between passes. Rotations in progress do not count against it.
    public func liveness(now: Date, longestPass: TimeInterval = 900) -> String? {
        state.lock.withLock {
            guard state.loopRunning else { return "the scheduler loop is not running" }
            if let started = state.passStartedAt, now.timeIntervalSince(started) > longestPass {
                return
                    "the scheduler's current pass began \(DurationText.age(Int64(now.timeIntervalSince(started)))) ago"
            }
            return nil
        }
    }

    /// Runs passes until `stop` is set or the task is cancelled (a service
    /// beside it failed), sleeping in between.
    public func run(until stop: StopSignal) async throws {
        logger.info("scheduler started", metadata: ["concurrency": .stringConvertible(concurrency)])
        state.lock.withLock { state.loopRunning = true }
        defer { state.lock.withLock { state.loopRunning = false } }
        var unreachableSince: Date?
        let started = ledger.clock.now
        var lastSeen: Date?
        while !stop.isStopped && !Task.isCancelled {
            let began = ledger.clock.now
            state.lock.withLock { state.passStartedAt = began }
            let pass: Pass
            do {
                pass = try await self.pass(all: false, stop: stop)
                if unreachableSince != nil {
                    logger.notice("the database answers again; the scheduler goes on")
                    unreachableSince = nil
                }
            } catch let error as RotorError where error.code == .databaseUnavailable {
                // Nothing new starts while the database is gone (leases held lapse, /healthz says 503);
                // passes are tried again on a backoff, and the first that gets through goes on.
                let now = ledger.clock.now
                let outage = now.timeIntervalSince(unreachableSince ?? now)
                if unreachableSince == nil { unreachableSince = now }
                logger.warning(
                    "the database cannot be reached; no new work until it answers",
                    metadata: ["error": "\(error.message)", "for_seconds": "\(Int(outage))"])
                state.lock.withLock {
                    state.passStartedAt = nil
                    state.passEndedAt = now
                    state.dirty = true
                }
                await sleep(until: now.addingTimeInterval(Self.outageRetry(after: outage)), stop: stop)
                continue
            }
            let now = ledger.clock.now
            state.lock.withLock {
                state.passStartedAt = nil
                state.passEndedAt = now
            }
            if lastSeen.map({ now.timeIntervalSince($0) >= NodeRecord.heartbeat }) ?? true {
                lastSeen = await recordNode(startedAt: started, now: now) ? now : lastSeen
            }
            // Asleep until the earliest due, retry or poll time; never straight into another
            // pass, so that work that stays due (a claim another process holds) cannot spin.
            let wake = max(
                min(pass.nextWake ?? .distantFuture, now.addingTimeInterval(pollInterval)),
                now.addingTimeInterval(min(pollInterval, Self.shortestPause)))
            if stop.isStopped || Task.isCancelled { break }
            await sleep(until: wake, stop: stop)
        }
        logger.info("scheduler stopped at a safe point")
    }

    /// Records this process as a running node (`--node`): best effort, a
    /// failed write is tried again after the next pass.
    private func recordNode(startedAt: Date, now: Date) async -> Bool {
        let node = NodeRecord(
            name: LeaseOwner.node, pid: Int64(getpid()), version: RotorVersion.string, startedAt: startedAt, seenAt: now
        )
        do {
            try await ledger.store.commit(durable: false) { try $0.recordNode(node) }
            return true
        } catch {
            logger.warning("could not record this node as running", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// The least time between two passes of `run`.
    static let shortestPause: TimeInterval = 1

    /// How long to wait before the next pass while the database has been
    /// unreachable for `outage` seconds: 2 s, growing to 30 s.
    static func outageRetry(after outage: TimeInterval) -> TimeInterval {
        min(30, max(2, outage / 4))
    }

    /// `rotor run --once`: everything that is due now, including every
    /// unfinished rotation regardless of its backoff (resolving one is safe
    /// at any time). Failed deliveries and refused occurrences keep their
    /// backoff, so that a cron job every minute does not retry a failing hook every minute.
    public func runOnce() async throws -> [RotationOutcome] {
        try await pass(all: true, stop: StopSignal()).outcomes
    }

    func sleep(until wake: Date, stop: StopSignal) async {
        let clock = ledger.clock
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await clock.sleep(until: wake) }
            group.addTask { await stop.wait() }
            await group.next()
            group.cancelAll()
        }
    }

    /// One pass over due work. `all` ignores backoff (for `--once`).
    ///
    /// An idle pass is cheap however many apps there are: pending
    /// deliveries and due occurrences are looked for only when something
    /// changed (another process committed, or this one did work), a
    /// delivery's retry time or an occurrence's start has come, or `all`.
    public func pass(all: Bool, stop: StopSignal) async throws -> Pass {
        let now = ledger.clock.now
        var outcomes: [RotationOutcome] = []
        let mark = try await ledger.store.changeMark()
        let (changed, retryDue, startDue) = state.lock.withLock {
            (
                state.dirty || state.changeMark != mark, state.nextRetry.map { $0 <= now } ?? false,
                state.earliestStart.map { $0 <= now } ?? false
            )
        }

        // 1. Spill files and unfinished rotations (verifications, deliveries, lost answers).
        // The daemon leaves a rotation another process holds to that process, silently.
        let resolved = try await engine.resolveAll(
            dueBy: all ? nil : now, importingSpills: true, skippingBusy: !all, while: { !stop.isStopped })
        for outcome in resolved { log(outcome) }
        outcomes += resolved

        // 2. Pending deliveries of current versions: new targets, and failed ones whose backoff is over.
        if all || changed || retryDue {
            for appID in try await ledger.read({ try $0.appsWithDueDeliveries(at: now) }) where !stop.isStopped {
                await retryDeliveries(appID: appID, at: now)
            }
        }

        // 2b. Alerts that could not be sent, on the delivery backoff.
        if all || changed || retryDue {
            let report = await delivery.alerts.retryQueued(at: now)
            for item in report.dropped {
                logger.error(
                    "alert dropped: it could not be sent for a day",
                    metadata: [
                        "alert": "\(item.alertID)", "app": "\(item.app)", "event": "\(item.event)",
                        "attempts": "\(item.attempts)", "error": "\(item.lastError ?? "")",
                    ])
            }
            if report.failed > 0 {
                logger.warning("alerts not sent, tried again later", metadata: ["count": "\(report.failed)"])
            }
        }

        // 3. Scheduled occurrences that are due.
        var planned: Plan?
        if all || changed || startDue {
            let plan = try await self.plan(now: now)
            outcomes += await rotate(plan.due, stop: stop)
            // The apps just rotated count from their new pairs: plan again to know when to wake.
            planned = plan.due.isEmpty ? plan : try await self.plan(now: now)
        }
        // 4. Groups' targets that lack their group's version: after a member's rotation, or a new target.
        if all || changed || retryDue || !outcomes.isEmpty {
            do {
                for outcome in try await groups.deliverDue(now: ledger.clock.now) {
                    if let error = outcome.error {
                        logger.warning(
                            "group delivery failed",
                            metadata: [
                                "group": "\(outcome.group)", "target": "\(outcome.target.id)", "error": "\(error)",
                            ])
                    }
                }
            } catch {
                logger.warning("group delivery failed", metadata: ["error": "\(error)"])
            }
        }
        // Some steps do not wait for the disk (see `RotationEngine.verified`); the pass ends when all is durable.
        try await ledger.flush()

        let retry = try await ledger.read { try $0.nextRetryTime() }
        let future: Date? = state.lock.withLock {
            if let planned { state.earliestStart = planned.earliestStart }
            state.nextRetry = retry
            state.changeMark = mark
            state.dirty = !outcomes.isEmpty
            return state.earliestStart
        }
        return Pass(outcomes: outcomes, nextWake: [retry, future].compactMap { $0 }.filter { $0 > now }.min())
    }

    /// An app and its next occurrence.
    public struct Planned: Sendable {
        public var app: AppRecord
        public var occurrence: OccurrenceRecord

        /// Pending, or claimed by a process that recorded no rotation: the
        /// claim goes to whoever holds the app's lease next.
        var isClaimable: Bool {
            occurrence.state == .pending || (occurrence.state == .started && occurrence.rotationID == nil)
        }
    }

    /// The occurrences that may start now, most overdue first, and the
    /// earliest start after now.
    public struct Plan: Sendable {
        public var due: [Planned] = []
        public var earliestStart: Date?
    }

    /// Each scheduled app's next occurrence (``Planner/next(app:secretCreatedAt:active:now:)``,
    /// the computation `status` and `app list` show), read one app at a
    /// time. It reads only; an occurrence is written when it is claimed.
    public func plan(now: Date) async throws -> Plan {
        var plan: Plan = try await ledger.read { reader in
            let active = try reader.activeOccurrences()
            var plan = Plan()
            func consider(_ app: AppRecord, _ next: OccurrenceRecord?) {
                guard let next else { return }
                let planned = Planned(app: app, occurrence: next)
                guard planned.isClaimable else { return }
                if next.eligibleAt <= now {
                    plan.due.append(planned)
                } else if plan.earliestStart.map({ next.eligibleAt < $0 }) ?? true {
                    plan.earliestStart = next.eligibleAt
                }
            }
            try reader.forEachApp(schedulable: true) { app, created in
                consider(app, Planner.next(app: app, secretCreatedAt: created, active: active[app.id] ?? [], now: now))
            }
            // A group's standby member, on the group's schedule (its members' own schedules are ignored).
            for group in try reader.groups() {
                let state = try GroupState.read(group, in: reader)
                consider(state.scheduled, state.nextOccurrence(active: active[state.standby.app.id] ?? [], now: now))
            }
            return plan
        }
        plan.due.sort { ($0.occurrence.eligibleAt, $0.app.name) < ($1.occurrence.eligibleAt, $1.app.name) }
        return plan
    }

    /// Claims and rotates due occurrences, `concurrency` at a time.
    func rotate(_ due: [Planned], stop: StopSignal) async -> [RotationOutcome] {
        await withTaskGroup(of: RotationOutcome?.self) { group in
            var outcomes: [RotationOutcome] = []
            var running = 0
            var ended = 0
            for item in due {
                if stop.isStopped { break }
                if running >= concurrency, let finished = await group.next() {
                    running -= 1
                    ended += 1
                    progress?(ended, due.count)
                    if let finished { outcomes.append(finished) }
                }
                running += 1
                group.addTask { await self.rotateOccurrence(item) }
            }
            for await finished in group {
                ended += 1
                progress?(ended, due.count)
                if let finished { outcomes.append(finished) }
            }
            return outcomes
        }
    }

    func rotateOccurrence(_ item: Planned) async -> RotationOutcome? {
        let occurrence = item.occurrence
        do {
            // nil: not claimed (another process has it, or a rotation is unresolved and is finished first).
            guard let outcome = try await engine.rotate(item.app, occurrence: occurrence) else { return nil }
            logger.info(
                "rotated on schedule",
                metadata: [
                    "app": "\(item.app.name)", "due": "\(RFC3339.format(occurrence.due))",
                    "covers": .stringConvertible(occurrence.covers),
                ])
            log(outcome)
            return outcome
        } catch let error as RotorError where error.code == .busy {
            return nil  // another process holds the app: it is that process's work
        } catch {
            return failure(error)
        }
    }

    func retryDeliveries(appID: Int64, at now: Date) async {
        guard let app = try? await ledger.read({ try $0.app(id: appID) }) else { return }
        do {
            // nil: another process holds the app, and delivers for itself.
            _ = try await delivery.deliverCurrent(
                appID: appID, owner: engine.owner, leaseDuration: engine.leaseDuration, force: false, dueBy: now)
        } catch {
            logger.warning("delivery retry failed", metadata: ["app": "\(app.name)", "error": "\(error)"])
        }
    }

    func log(_ outcome: RotationOutcome) {
        guard logsOutcomes else { return }
        let level: Logger.Level = outcome.exitStatus == .success ? .info : .warning
        var metadata: Logger.Metadata = ["app": "\(outcome.app)"]
        if let rotation = outcome.rotationID { metadata["rotation"] = .stringConvertible(rotation) }
        if let state = outcome.state { metadata["state"] = "\(state.rawValue)" }
        logger.log(level: level, "\(outcome.message)", metadata: metadata)
    }

    /// A failed rotation is logged and becomes an outcome, never a crash.
    func failure(_ error: any Error) -> RotationOutcome? {
        if let error = error as? RotorError {
            logger.warning("\(error.message)")
            return RotationOutcome(
                app: "-", rotationID: nil, state: nil, message: error.message, exitStatus: error.exitStatus)
        }
        logger.error("unexpected failure: \(error)")
        return nil
    }
}
