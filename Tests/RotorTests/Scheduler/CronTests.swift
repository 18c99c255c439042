import Foundation
import RotorCore
import Testing

struct CronNextTests {
    let utc = TimeZone.gmt

    func date(_ text: String) -> Date { RFC3339.parse(text)! }

    func next(_ expression: String, _ after: String, _ zone: String = "UTC") throws -> String? {
        try CronExpression(parsing: expression).next(after: date(after), in: try #require(TimeZone(identifier: zone)))
            .map(RFC3339.format)
    }

    @Test(arguments: [
        // minute
        ("*/15 * * * *", "2026-01-01T00:07:00Z", "2026-01-01T00:15:00.000Z"),
        ("5 * * * *", "2026-01-01T00:05:00Z", "2026-01-01T01:05:00.000Z"),
        // hour
        ("0 3 * * *", "2026-01-01T03:00:00Z", "2026-01-02T03:00:00.000Z"),
        ("30 9-17/4 * * *", "2026-01-01T10:00:00Z", "2026-01-01T13:30:00.000Z"),
        // day of month
        ("0 0 31 * *", "2026-02-01T00:00:00Z", "2026-03-31T00:00:00.000Z"),
        ("0 0 29 2 *", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00.000Z"),
        // month
        ("0 0 1 jan,jul *", "2026-02-01T00:00:00Z", "2026-07-01T00:00:00.000Z"),
        // day of week (2026-01-01 is a Thursday)
        ("0 0 * * mon", "2026-01-01T00:00:00Z", "2026-01-05T00:00:00.000Z"),
        ("0 0 * * 0", "2026-01-01T00:00:00Z", "2026-01-04T00:00:00.000Z"),
        ("0 0 * * 7", "2026-01-01T00:00:00Z", "2026-01-04T00:00:00.000Z"),
        // both day fields restricted: either matches (the 13th, or any Friday)
        ("0 0 13 * 5", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00.000Z"),
        ("0 0 13 * 5", "2026-01-10T00:00:00Z", "2026-01-13T00:00:00.000Z"),
        // a starred day field means AND (only the other decides)
        ("0 0 */2 * 5", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00.000Z"),
        // macros
        ("@hourly", "2026-01-01T00:59:59Z", "2026-01-01T01:00:00.000Z"),
        ("@monthly", "2026-01-15T00:00:00Z", "2026-02-01T00:00:00.000Z"),
    ])
    func everyField(expression: String, after: String, expected: String) throws {
        #expect(try next(expression, after) == expected)
    }

    @Test func anImpossibleDateNeverComes() throws {
        #expect(try next("0 0 30 2 *", "2026-01-01T00:00:00Z") == nil)
    }

    @Test func evaluatedInTheAppsZone() throws {
        // 03:00 in Amsterdam is 02:00 UTC in winter, 01:00 UTC in summer.
        #expect(try next("0 3 * * *", "2026-01-10T00:00:00Z", "Europe/Amsterdam") == "2026-01-10T02:00:00.000Z")
        #expect(try next("0 3 * * *", "2026-07-10T00:00:00Z", "Europe/Amsterdam") == "2026-07-10T01:00:00.000Z")
    }

    @Test func springForwardRunsASkippedTimeOnceRightAfterTheJump() throws {
        // New York, 2026-03-08: 02:00 EST jumps to 03:00 EDT (07:00 UTC).
        #expect(try next("30 2 * * *", "2026-03-08T05:00:00Z", "America/New_York") == "2026-03-08T07:00:00.000Z")
        // Every 15 minutes through the gap: one run at the jump, then on.
        let cron = try CronExpression(parsing: "*/15 * * * *")
        let zone = try #require(TimeZone(identifier: "America/New_York"))
        var times: [String] = []
        var cursor = date("2026-03-08T06:40:00Z")
        for _ in 0..<4 {
            cursor = try #require(cron.next(after: cursor, in: zone))
            times.append(RFC3339.format(cursor))
        }
        #expect(
            times == [
                "2026-03-08T06:45:00.000Z", "2026-03-08T07:00:00.000Z", "2026-03-08T07:15:00.000Z",
                "2026-03-08T07:30:00.000Z",
            ])
    }

    @Test func fallBackRunsARepeatedTimeOnce() throws {
        // New York, 2026-11-01: 01:00-01:59 happens twice (EDT, then EST).
        let cron = try CronExpression(parsing: "30 1 * * *")
        let zone = try #require(TimeZone(identifier: "America/New_York"))
        let first = try #require(cron.next(after: date("2026-11-01T04:00:00Z"), in: zone))
        #expect(RFC3339.format(first) == "2026-11-01T05:30:00.000Z")  // 01:30 EDT
        // The next day, in EST.
        let second = try #require(cron.next(after: first, in: zone))
        #expect(RFC3339.format(second) == "2026-11-02T06:30:00.000Z")
    }

    /// A whole year of a daily job in zones with daylight saving: exactly one
    /// run per local day, at the named time or right after a jump over it.
    @Test(arguments: ["America/New_York", "Australia/Sydney", "Europe/Amsterdam", "UTC"])
    func aYearOfDailyRunsAcrossDaylightSaving(zoneName: String) throws {
        let zone = try #require(TimeZone(identifier: zoneName))
        let time = ZoneTime(zone)
        let cron = try CronExpression(parsing: "30 2 * * *")
        var cursor = date("2026-01-01T00:00:00Z")
        var days = Set<Int>()
        var count = 0
        while true {
            guard let next = cron.next(after: cursor, in: zone), next < date("2027-01-01T00:00:00Z") else { break }
            #expect(next > cursor)
            let minute = time.minuteOfDay(next)
            #expect(minute == 150 || minute == 180, "\(RFC3339.format(next)) in \(zoneName)")
            days.insert(Int(time.wall(next) / 86400))
            count += 1
            cursor = next
        }
        #expect(count == days.count)
        #expect(count >= 364 && count <= 366)
    }

    @Test(arguments: ["America/New_York", "Australia/Sydney"])
    func aYearOfHourlyRunsNeverRepeatsOrStalls(zoneName: String) throws {
        let zone = try #require(TimeZone(identifier: zoneName))
        let cron = try CronExpression(parsing: "0 * * * *")
        var cursor = date("2026-01-01T00:00:00Z")
        var count = 0
        while let next = cron.next(after: cursor, in: zone), next < date("2027-01-01T00:00:00Z") {
            #expect(next.timeIntervalSince(cursor) >= 3600 || count == 0)
            #expect(next.timeIntervalSince(cursor) <= 7200)
            cursor = next
            count += 1
        }
        // 8760 hours in 2026, less the hour skipped in spring, less the repeat in autumn.
        #expect(count == 8759 || count == 8758)
    }

    /// The property: next(t) > t, for random expressions, times and zones.
    @Test func nextIsAlwaysLater() throws {
        let zones = ["UTC", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "Europe/London", "Pacific/Chatham"]
        let expressions = [
            "* * * * *", "*/7 * * * *", "0 2 * * *", "30 1 * * 0", "15 3 1 * *", "0 0 * * 1-5", "59 23 31 12 *",
        ]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let t = Date(timeIntervalSince1970: Double.random(in: 1_700_000_000...1_900_000_000, using: &generator))
            let cron = try CronExpression(parsing: expressions.randomElement(using: &generator)!)
            let zone = try #require(TimeZone(identifier: zones.randomElement(using: &generator)!))
            let next = try #require(cron.next(after: t, in: zone))
            #expect(next > t)
            #expect(next.timeIntervalSince(t) <= 366 * 86400 + 3600)
        }
    }
}
