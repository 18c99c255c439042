import Foundation
import RotorCore
import Testing

struct DurationTests {
    @Test(arguments: [("90s", 90), ("12h", 43200), ("30d", 2_592_000), ("1m", 60), ("0s", 0)] as [(String, Int64)])
    func validDurations(text: String, seconds: Int64) throws {
        #expect(try DurationText.parse(text, option: "--every") == seconds)
    }

    @Test(arguments: ["", "30", "d", "1.5h", "-1d", "+1d", "1w", "10 d", "99999999999999999d", "1D"])
    func invalidDurations(text: String) {
        #expect(throws: RotorError.self) { try DurationText.parse(text, option: "--every") }
    }

    @Test func formatIsTheShortestExactForm() {
        #expect(DurationText.format(2_592_000) == "30d")
        #expect(DurationText.format(5400) == "90m")
        #expect(DurationText.format(45) == "45s")
    }
}

struct NameTests {
    @Test(arguments: ["billing", "a", "0app", "my-app.prod_1"])
    func validNames(name: String) throws {
        #expect(try Validate.name(name) == name)
    }

    @Test(arguments: ["", "Billing", "-app", ".app", "a/b", "a b", "a\nb", "é", String(repeating: "a", count: 65)])
    func invalidNames(name: String) {
        #expect(throws: RotorError.self) { try Validate.name(name) }
    }
}

struct SecretInputTests {
    @Test func oneTrailingNewlineIsDropped() throws {
        #expect(try Validate.secret(Array("abc\n".utf8), source: "stdin").reveal() == "abc")
        #expect(try Validate.secret(Array("abc\r\n".utf8), source: "stdin").reveal() == "abc")
        #expect(try Validate.secret(Array("abc".utf8), source: "stdin").reveal() == "abc")
    }

    @Test(arguments: ["", "\n", "a\nb", "ab\n\n", "a\u{0}b", "a\tb", String(repeating: "x", count: 4097)])
    func rejected(text: String) {
        #expect(throws: RotorError.self) { try Validate.secret(Array(text.utf8), source: "stdin") }
    }

    @Test func errorsNeverEchoTheSecret() {
        do {
            _ = try Validate.secret(Array("CANARY\nX".utf8), source: "stdin")
            Issue.record("accepted a secret with a newline")
        } catch {
            #expect(!error.message.contains("CANARY"))
        }
    }
}

struct URLTests {
    @Test(arguments: [
        "https://api.vitalera.io", "https://api.vitalera.io/", "http://localhost:8080", "http://127.0.0.1:9",
        "http://127.1.2.3", "http://[::1]:8080",
    ])
    func accepted(url: String) throws {
        #expect(try !Validate.apiURL(url).hasSuffix("/"))
    }

    @Test(arguments: [
        "http://api.vitalera.io", "http://10.0.0.1", "http://128.0.0.1", "ftp://x", "api.vitalera.io",
        "https://user:pw@api.vitalera.io", "http://localhost.evil.com", "http://127.0.0.1.evil.com",
    ])
    func refused(url: String) {
        #expect(throws: RotorError.self) { try Validate.apiURL(url) }
    }
}

struct WindowAndZoneTests {
    @Test func windowsParseAndWrapMidnight() throws {
        let night = try TimeWindow(parsing: "22:00-02:00")
        #expect(night.contains(minuteOfDay: 23 * 60))
        #expect(night.contains(minuteOfDay: 60))
        #expect(!night.contains(minuteOfDay: 12 * 60))
        #expect(try TimeWindow(parsing: "02:00-05:30").description == "02:00-05:30")
    }

    @Test(arguments: ["", "2:00-05:00", "02:00", "02:00-02:00", "24:00-01:00", "02:60-03:00", "a-b"])
    func invalidWindows(text: String) {
        #expect(throws: RotorError.self) { try TimeWindow(parsing: text) }
    }

    @Test func timeZones() throws {
        #expect(try Validate.timezone("Europe/Amsterdam") == "Europe/Amsterdam")
        #expect(throws: RotorError.self) { try Validate.timezone("Mars/Olympus") }
    }
}

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
