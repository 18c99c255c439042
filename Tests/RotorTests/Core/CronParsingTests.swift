import Foundation
import RotorCore
import Testing

struct CronParsingTests {
    @Test func fieldsExpand() throws {
        let cron = try CronExpression(parsing: "*/15 3,4 1-7 jan-mar mon-fri")
        #expect(cron.minutes == [0, 15, 30, 45])
        #expect(cron.hours == [3, 4])
        #expect(cron.daysOfMonth == Set(1...7))
        #expect(cron.months == [1, 2, 3])
        #expect(cron.daysOfWeek == Set(1...5))
        #expect(!cron.daysOfMonthIsWildcard)
    }

    @Test func sevenIsSundayAndMacrosExpand() throws {
        #expect(try CronExpression(parsing: "0 0 * * 7").daysOfWeek == [0])
        #expect(try CronExpression(parsing: "@daily").hours == [0])
        #expect(try CronExpression(parsing: "@weekly").daysOfWeek == [0])
    }

    @Test(arguments: [
        "", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *",
        "* * * * 8", "*/0 * * * *", "5-1 * * * *", "a * * * *", "1,,2 * * * *",
    ])
    func invalid(text: String) {
        #expect(throws: RotorError.self) { try CronExpression(parsing: text) }
    }
}
