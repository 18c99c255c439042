import Foundation

/// Local wall-clock times of a time zone, with cronie's rules at daylight
/// saving changes: a wall time skipped by spring-forward maps to the instant
/// of the jump; a wall time that repeats at fall-back maps to its first instant.
public struct ZoneTime: Sendable {
    public let zone: TimeZone
    static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    public init(_ zone: TimeZone) {
        self.zone = zone
    }

    /// The wall-clock reading at `date`, as seconds since the epoch read as UTC.
    public func wall(_ date: Date) -> TimeInterval {
        date.timeIntervalSince1970 + TimeInterval(zone.secondsFromGMT(for: date))
    }

    /// The instant a wall-clock reading happens.
    public func instant(_ wall: TimeInterval) -> Date {
        let before = TimeInterval(zone.secondsFromGMT(for: Date(timeIntervalSince1970: wall - 50_400)))
        let after = TimeInterval(zone.secondsFromGMT(for: Date(timeIntervalSince1970: wall + 50_400)))
        let candidates = Set([wall - before, wall - after]).sorted()
        for candidate in candidates where self.wall(Date(timeIntervalSince1970: candidate)) == wall {
            return Date(timeIntervalSince1970: candidate)
        }
        // In a spring-forward gap: the jump itself.
        let earliest = candidates.first!
        return zone.nextDaylightSavingTimeTransition(after: Date(timeIntervalSince1970: earliest - 1))
            ?? Date(timeIntervalSince1970: candidates.last!)
    }

    /// Minute of the day (0…1439) of the wall clock at `date`.
    public func minuteOfDay(_ date: Date) -> Int {
        let seconds = Int(wall(date).rounded(.down))
        return ((seconds % 86400 + 86400) % 86400) / 60
    }

    /// Midnight (as a wall reading) of the day holding `wall`.
    static func dayStart(_ wall: TimeInterval) -> TimeInterval {
        (wall / 86400).rounded(.down) * 86400
    }
}

extension CronExpression {
    /// The first time after `date` (strictly) that the expression names in
    /// `zone`, or nil when none falls within five years (like `0 0 30 2 *`).
    public func next(after date: Date, in zone: TimeZone) -> Date? {
        let time = ZoneTime(zone)
        let wallAfter = time.wall(date)
        let hoursSorted = hours.sorted()
        let minutesSorted = minutes.sorted()
        var day = ZoneTime.dayStart(wallAfter)
        for _ in 0..<(366 * 5 + 2) {
            defer { day += 86400 }
            let parts = ZoneTime.utc.dateComponents([.month, .day, .weekday], from: Date(timeIntervalSince1970: day))
            guard let month = parts.month, months.contains(month), let dom = parts.day, let weekday = parts.weekday,
                matchesDay(dayOfMonth: dom, dayOfWeek: weekday - 1)
            else { continue }
            for hour in hoursSorted {
                for minute in minutesSorted {
                    let wall = day + TimeInterval(hour * 3600 + minute * 60)
                    // Readings well before the start cannot map after it (a DST shift is at most a few hours).
                    if wall < wallAfter - 4 * 3600 { continue }
                    let instant = time.instant(wall)
                    if instant > date { return instant }
                }
            }
        }
        return nil
    }

    /// Cron's day rule: when both day fields are restricted either may match;
    /// when one is `*`, the other decides.
    func matchesDay(dayOfMonth: Int, dayOfWeek: Int) -> Bool {
        switch (daysOfMonthIsWildcard, daysOfWeekIsWildcard) {
        case (true, true): true
        case (true, false): daysOfWeek.contains(dayOfWeek)
        case (false, true): daysOfMonth.contains(dayOfMonth)
        case (false, false): daysOfMonth.contains(dayOfMonth) || daysOfWeek.contains(dayOfWeek)
        }
    }
}
