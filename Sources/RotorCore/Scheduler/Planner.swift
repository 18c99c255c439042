import Crypto
import Foundation

/// Schedule maths: when an app is due, and when its rotation may start.
/// Every reader (the scheduler, `status`, `app list`, `app show`, metrics)
/// goes through ``next(app:secretCreatedAt:active:now:)``, so they never disagree.
public enum Planner {
    /// Covers are counted up to this many due times; more after downtime still make one occurrence.
    public static let coversCounted = 1000

    /// The due time of the current pair and how many due times have passed
    /// by `now` (at least 1). `--every` counts from when the pair was stored;
    /// cron takes the first time after it, in the app's time zone. After
    /// downtime across several due times there is one catch-up occurrence:
    /// a clock jump or a long outage causes no burst.
    public static func nextDue(schedule: Schedule, timezone: String, secretCreatedAt: Date, now: Date)
        -> (due: Date, covers: Int)?
    {
        switch schedule {
        case .none, .damaged:
            return nil
        case .every(let seconds):
            let step = TimeInterval(seconds)
            let due = secretCreatedAt.addingTimeInterval(step)
            guard due <= now else { return (due, 1) }
            let missed = (now.timeIntervalSince(due) / step).rounded(.down)
            return (due, Int(min(missed, Double(coversCounted - 1))) + 1)
        case .cron(let cron):
            let zone = TimeZone(identifier: timezone) ?? TimeZone(identifier: "UTC")!
            guard let due = cron.next(after: secretCreatedAt, in: zone) else { return nil }
            var covers = 1
            var last = due
            while covers < coversCounted, let later = cron.next(after: last, in: zone), later <= now {
                last = later
                covers += 1
            }
            return (due, covers)
        }
    }

    /// The occurrence `app` is waiting for, as the scheduler will claim it:
    /// nil when the app is disabled, needs an operator, or has no schedule.
    /// `active` is the stored pending or started occurrence of the app with
    /// this due time, if any; others (planned before an edit) do not count.
    public static func next(app: AppRecord, secretCreatedAt: Date, active: [OccurrenceRecord], now: Date)
        -> OccurrenceRecord?
    {
        guard app.enabled, app.attention == nil,
            let next = nextDue(
                schedule: app.schedule, timezone: app.timezone, secretCreatedAt: secretCreatedAt, now: now)
        else { return nil }
        let jitter = jitter(appID: app.id, due: next.due, maximum: app.jitter)
        let start = startTime(due: next.due, jitterMS: jitter, window: app.window, timezone: app.timezone)
        var occurrence = OccurrenceRecord(
            appID: app.id, due: next.due, jitterMS: jitter, startAt: start, covers: next.covers, state: .pending,
            rotationID: nil)
        if let stored = active.first(where: { $0.due == next.due }) {
            occurrence.state = stored.state
            occurrence.rotationID = stored.rotationID
            occurrence.attempts = stored.attempts
            occurrence.retryAt = stored.retryAt
            occurrence.lastError = stored.lastError
        }
        return occurrence
    }

    /// The delay of an occurrence within the app's jitter, derived from the
    /// app and the due time: the same in every process and every reader,
    /// drawn afresh for each due time, spread evenly over apps.
    public static func jitter(appID: Int64, due: Date, maximum seconds: Int64) -> Int64 {
        guard seconds > 0 else { return 0 }
        var input = withUnsafeBytes(of: appID.littleEndian) { Data($0) }
        input.append(contentsOf: withUnsafeBytes(of: Int64(due.timeIntervalSince1970 * 1000).littleEndian) { Data($0) })
        let digest = SHA256.hash(data: input)
        let value = digest.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return Int64(value % UInt64(seconds * 1000 + 1))
    }

    /// `due` delayed by the drawn jitter, then moved to the window's next
    /// opening if it falls outside the window (in the app's time zone).
    public static func startTime(due: Date, jitterMS: Int64, window: TimeWindow?, timezone: String) -> Date {
        let delayed = due.addingTimeInterval(TimeInterval(jitterMS) / 1000)
        guard let window else { return delayed }
        let time = ZoneTime(TimeZone(identifier: timezone) ?? TimeZone(identifier: "UTC")!)
        if window.contains(minuteOfDay: time.minuteOfDay(delayed)) { return delayed }
        let wall = time.wall(delayed)
        var opening = ZoneTime.dayStart(wall) + TimeInterval(window.start * 60)
        if opening <= wall { opening += 86400 }
        return time.instant(opening)
    }

    /// Backoff of a scheduled rotation refused for a while: about 1 min,
    /// doubling, full jitter, capped at 1 h; `Retry-After` wins when longer.
    public static let refusalBackoff = RetryPolicy(base: 60, cap: 3600, deadline: .infinity, maxAttempts: .max)
}
