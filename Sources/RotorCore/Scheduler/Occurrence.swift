import Foundation

/// One scheduled occurrence of an app's rotation. The app and its nominal
/// due time are the key, unique in the database: two processes or a restart
/// never rotate twice for one occurrence.
public struct OccurrenceRecord: Sendable, Equatable {
    public enum State: String, Sendable {
        case pending, started, done, skipped
    }

    public var appID: Int64
    /// The nominal due time (the schedule's, before jitter and window).
    public var due: Date
    /// The delay drawn once for this occurrence and stored, never drawn again.
    public var jitterMS: Int64
    /// When the rotation may start: due, plus jitter, moved into the window.
    public var startAt: Date
    /// How many due times this occurrence covers (more than one after downtime).
    public var covers: Int
    public var state: State
    public var rotationID: Int64?

    public init(
        appID: Int64, due: Date, jitterMS: Int64, startAt: Date, covers: Int, state: State, rotationID: Int64?
    ) {
        self.appID = appID
        self.due = due
        self.jitterMS = jitterMS
        self.startAt = startAt
        self.covers = covers
        self.state = state
        self.rotationID = rotationID
    }
}

/// Schedule maths: the next occurrence of an app and when it may start.
public enum Planner {
    /// The occurrence due next for `app`, given the last one recorded. After
    /// downtime across several due times there is one catch-up occurrence,
    /// keyed by the latest missed due time and covering all of them; a clock
    /// jump or a long outage causes no burst.
    public static func nextDue(
        app: AppRecord, secretCreatedAt: Date, latest: OccurrenceRecord?, now: Date
    ) -> (due: Date, covers: Int)? {
        if let latest, latest.state == .pending || latest.state == .started { return (latest.due, latest.covers) }
        switch app.schedule {
        case .none, .damaged:
            return nil
        case .every(let seconds):
            let step = TimeInterval(seconds)
            var due = secretCreatedAt.addingTimeInterval(step)
            if let handled = latest?.due, due <= handled {
                // The last occurrence did not produce a new pair (aborted): the next one, not a retry storm.
                let steps = ((handled.timeIntervalSince(due)) / step).rounded(.down) + 1
                due = due.addingTimeInterval(steps * step)
            }
            guard due <= now else { return (due, 1) }
            let missed = Int((now.timeIntervalSince(due) / step).rounded(.down))
            return (due.addingTimeInterval(TimeInterval(missed) * step), missed + 1)
        case .cron(let cron):
            let zone = TimeZone(identifier: app.timezone) ?? TimeZone(identifier: "UTC")!
            guard var due = cron.next(after: latest?.due ?? app.createdAt, in: zone) else { return nil }
            var covers = 1
            while due <= now, covers < 1_000_000, let later = cron.next(after: due, in: zone), later <= now {
                due = later
                covers += 1
            }
            return (due, covers)
        }
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
}
