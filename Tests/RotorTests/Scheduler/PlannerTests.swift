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

    func nextDue(_ app: AppRecord, secret: String, now: String) -> (due: Date, covers: Int)? {
        Planner.nextDue(schedule: app.schedule, timezone: app.timezone, secretCreatedAt: date(secret), now: date(now))
    }

    @Test func everyCountsFromTheCurrentPair() {
        let next = nextDue(app(.every(seconds: 86400)), secret: "2026-01-10T12:00:00Z", now: "2026-01-10T13:00:00Z")
        #expect(next?.due == date("2026-01-11T12:00:00Z"))
        #expect(next?.covers == 1)
    }

    @Test func theDueTimeIsTheSameWheneverItIsAsked() {
        // "Rotate away from version N": every process, at any time, names the same occurrence.
        let early = nextDue(app(.every(seconds: 3600)), secret: "2026-01-01T00:00:00Z", now: "2026-01-01T00:30:00Z")
        let late = nextDue(app(.every(seconds: 3600)), secret: "2026-01-01T00:00:00Z", now: "2026-01-01T05:30:00Z")
        #expect(early?.due == date("2026-01-01T01:00:00Z"))
        #expect(late?.due == early?.due)
        #expect(late?.covers == 5)  // 01:00 to 05:00
        let cron = app(.cron(try! CronExpression(parsing: "0 * * * *")))
        let cronEarly = nextDue(cron, secret: "2026-01-01T00:10:00Z", now: "2026-01-01T00:20:00Z")
        let cronLate = nextDue(cron, secret: "2026-01-01T00:10:00Z", now: "2026-01-01T09:30:00Z")
        #expect(cronEarly?.due == date("2026-01-01T01:00:00Z"))
        #expect(cronLate?.due == cronEarly?.due)
        #expect(cronLate?.covers == 9)  // 01:00 to 09:00
    }

    @Test func shorteningTheScheduleOfAnOldPairMakesItDueNow() {
        // 30d shortened to 1d on a 2-day-old pair: due a day ago, so due now.
        let next = nextDue(app(.every(seconds: 86400)), secret: "2026-01-01T00:00:00Z", now: "2026-01-03T00:00:00Z")
        #expect(next.map { $0.due <= date("2026-01-03T00:00:00Z") } == true)
    }

    @Test func aClockJumpOfAYearIsStillOneOccurrenceAndCountingStops() throws {
        let cron = try CronExpression(parsing: "*/5 * * * *")
        let next = nextDue(app(.cron(cron)), secret: "2026-01-01T00:00:00Z", now: "2027-01-01T00:01:00Z")
        #expect(next?.due == date("2026-01-01T00:05:00Z"))
        #expect(next?.covers == Planner.coversCounted)
    }

    @Test func noScheduleNoOccurrence() {
        #expect(nextDue(app(.none), secret: "2026-01-01T00:00:00Z", now: "2026-01-01T00:00:00Z") == nil)
    }

    @Test func anAppThatNeedsAPersonOrIsDisabledIsNeverDue() {
        var needs = app(.every(seconds: 60))
        needs.attention = Attention(reason: "r", since: date("2026-01-01T00:00:00Z"))
        #expect(
            Planner.next(
                app: needs, secretCreatedAt: date("2026-01-01T00:00:00Z"), active: [], now: date("2026-02-01T00:00:00Z")
            ) == nil)
        var disabled = app(.every(seconds: 60))
        disabled.enabled = false
        #expect(
            Planner.next(
                app: disabled, secretCreatedAt: date("2026-01-01T00:00:00Z"), active: [],
                now: date("2026-02-01T00:00:00Z")) == nil)
    }

    @Test func aStoredOccurrenceCountsOnlyForTheCurrentDueTime() {
        let app = app(.every(seconds: 3600))
        let created = date("2026-01-01T00:00:00Z")
        let stale = OccurrenceRecord(
            appID: 1, due: date("2026-01-31T00:00:00Z"), jitterMS: 0, startAt: date("2026-01-31T00:00:00Z"), covers: 1,
            state: .pending, rotationID: nil, attempts: 3, retryAt: date("2026-01-31T01:00:00Z"))
        var retrying = stale
        retrying.due = date("2026-01-01T01:00:00Z")
        let ignored = Planner.next(
            app: app, secretCreatedAt: created, active: [stale], now: date("2026-01-01T02:00:00Z"))
        #expect(ignored?.due == date("2026-01-01T01:00:00Z"))
        #expect(ignored?.attempts == 0)
        let kept = Planner.next(
            app: app, secretCreatedAt: created, active: [stale, retrying], now: date("2026-01-01T02:00:00Z"))
        #expect(kept?.attempts == 3)
        #expect(kept?.eligibleAt == date("2026-01-31T01:00:00Z"))
    }

    @Test func jitterIsTheSameForEveryReaderAndStaysInRange() {
        let due = date("2026-01-01T03:00:00Z")
        let one = Planner.jitter(appID: 7, due: due, maximum: 1800)
        #expect(one == Planner.jitter(appID: 7, due: due, maximum: 1800))
        #expect((0...1_800_000).contains(one))
        #expect(Planner.jitter(appID: 7, due: due, maximum: 0) == 0)
        let spread = Set((1...50).map { Planner.jitter(appID: $0, due: due, maximum: 1800) })
        #expect(spread.count > 40)
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
