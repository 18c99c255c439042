import Foundation
import RotorCore
import RotorTesting
import Testing

struct PlannerTests {
    func date(_ text: String) -> Date { RFC3339.parse(text)! }

    func app(
        _ schedule: Schedule, created: String = "2026-01-01T00:00:00Z", timezone: String = "UTC",
        window: TimeWindow? = nil
    )
        -> AppRecord
    {
        AppRecord(
            id: 1, name: "billing", applicationID: "a", apiURL: "https://x", schedule: schedule, jitter: 0,
            window: window,
            timezone: timezone, identityID: nil, enabled: true, currentVersion: 1, createdAt: date(created),
            updatedAt: date(created))
    }

    func occurrence(_ due: String, _ state: OccurrenceRecord.State) -> OccurrenceRecord {
        OccurrenceRecord(
            appID: 1, due: date(due), jitterMS: 0, startAt: date(due), covers: 1, state: state, rotationID: nil)
    }

    @Test func everyCountsFromTheCurrentPair() {
        let next = Planner.nextDue(
            app: app(.every(seconds: 86400)), secretCreatedAt: date("2026-01-10T12:00:00Z"), latest: nil,
            now: date("2026-01-10T13:00:00Z"))
        #expect(next?.due == date("2026-01-11T12:00:00Z"))
        #expect(next?.covers == 1)
    }

    @Test func anAbortedOccurrenceIsNotRetriedAtOnce() {
        // The pair did not change (the rotation was aborted): the next due time, not the same one again.
        let next = Planner.nextDue(
            app: app(.every(seconds: 86400)), secretCreatedAt: date("2026-01-10T12:00:00Z"),
            latest: occurrence("2026-01-11T12:00:00Z", .done), now: date("2026-01-11T12:00:05Z"))
        #expect(next?.due == date("2026-01-12T12:00:00Z"))
    }

    @Test func downtimeAcrossSeveralDueTimesIsOneCatchUp() throws {
        let cron = try CronExpression(parsing: "0 * * * *")
        let next = Planner.nextDue(
            app: app(.cron(cron)), secretCreatedAt: date("2026-01-01T00:00:00Z"),
            latest: occurrence("2026-01-01T05:00:00Z", .done), now: date("2026-01-01T09:30:00Z"))
        #expect(next?.due == date("2026-01-01T09:00:00Z"))
        #expect(next?.covers == 4)  // 06:00, 07:00, 08:00, 09:00
        let every = Planner.nextDue(
            app: app(.every(seconds: 3600)), secretCreatedAt: date("2026-01-01T00:00:00Z"), latest: nil,
            now: date("2026-01-01T05:30:00Z"))
        #expect(every?.covers == 5)
        #expect(every?.due == date("2026-01-01T05:00:00Z"))
    }

    @Test func aClockJumpOfAYearIsStillOneOccurrence() throws {
        let cron = try CronExpression(parsing: "*/5 * * * *")
        let next = Planner.nextDue(
            app: app(.cron(cron)), secretCreatedAt: date("2026-01-01T00:00:00Z"),
            latest: occurrence("2026-01-01T00:00:00Z", .done), now: date("2027-01-01T00:01:00Z"))
        #expect(next?.due == date("2027-01-01T00:00:00Z"))
        #expect(next?.covers == 105_120)
    }

    @Test func aPendingOccurrenceIsKeptAsItIs() {
        let pending = occurrence("2026-01-02T00:00:00Z", .pending)
        let next = Planner.nextDue(
            app: app(.every(seconds: 60)), secretCreatedAt: date("2026-01-01T00:00:00Z"), latest: pending,
            now: date("2026-03-01T00:00:00Z"))
        #expect(next?.due == pending.due)
    }

    @Test func noScheduleNoOccurrence() {
        #expect(
            Planner.nextDue(app: app(.none), secretCreatedAt: Date(), latest: nil, now: Date()) == nil)
    }

    @Test func jitterOnlyDelays() {
        let due = date("2026-01-01T03:00:00Z")
        #expect(Planner.startTime(due: due, jitterMS: 0, window: nil, timezone: "UTC") == due)
        #expect(
            Planner.startTime(due: due, jitterMS: 90_000, window: nil, timezone: "UTC") == date("2026-01-01T03:01:30Z"))
    }

    @Test func windowsMoveAStartToTheNextOpening() throws {
        let window = try TimeWindow(parsing: "02:00-05:00")
        // Inside: unchanged.
        #expect(
            Planner.startTime(due: date("2026-01-01T03:00:00Z"), jitterMS: 0, window: window, timezone: "UTC")
                == date("2026-01-01T03:00:00Z"))
        // After the window: tomorrow's opening.
        #expect(
            Planner.startTime(due: date("2026-01-01T06:00:00Z"), jitterMS: 0, window: window, timezone: "UTC")
                == date("2026-01-02T02:00:00Z"))
        // Before it: today's opening, in the app's zone (02:00 Amsterdam is 01:00 UTC in winter).
        #expect(
            Planner.startTime(
                due: date("2026-01-01T00:00:00Z"), jitterMS: 0, window: window, timezone: "Europe/Amsterdam")
                == date("2026-01-01T01:00:00Z"))
        // A window across midnight.
        let night = try TimeWindow(parsing: "22:00-02:00")
        #expect(
            Planner.startTime(due: date("2026-01-01T12:00:00Z"), jitterMS: 0, window: night, timezone: "UTC")
                == date("2026-01-01T22:00:00Z"))
        // Jitter that pushes past the window's end waits for the next opening.
        #expect(
            Planner.startTime(due: date("2026-01-01T04:59:00Z"), jitterMS: 120_000, window: window, timezone: "UTC")
                == date("2026-01-02T02:00:00Z"))
    }
}

/// The scheduler in process against the sandbox, time driven by hand.
struct SchedulerPassTests {
    @Test func jitterIsDrawnOnceAndStored() async throws {
        let db = try TestDatabase()
        try await db.registry.add(
            AppSpec(
                name: "billing", applicationID: "a", clientID: "c", clientSecret: Secret("s"),
                schedule: .every(seconds: 3600), jitter: 1800),
            verify: false)
        try await withClient(retry: .none) { client in
            let engine = RotationEngine(ledger: db.ledger, api: client, databasePath: db.path)
            let first = try Scheduler(engine: engine, delivery: DeliveryService(ledger: db.ledger)).plan(
                now: db.clock.now)
            let again = try Scheduler(engine: engine, delivery: DeliveryService(ledger: db.ledger)).plan(
                now: db.clock.now)
            #expect(first?.count == 1)
            #expect(first?.first?.occurrence == again?.first?.occurrence)
            let jitter = try #require(first?.first?.occurrence.jitterMS)
            #expect((0...1_800_000).contains(jitter))
        }
    }
}
