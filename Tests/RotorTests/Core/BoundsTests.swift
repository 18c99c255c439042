import Foundation
import RotorCore
import RotorSQLite
import Testing

struct BoundsTests {
    @Test(arguments: ["36501d", "106751991167d", "99999999999999999999s", "+5d", "5 d", "\u{663}d", "-1d", "0x10s"])
    func anOutOfRangeOrOddDurationIsRefused(_ text: String) {
        #expect(throws: RotorError.self) { try DurationText.parse(text, option: "--every") }
    }

    @Test func theLongestDurationIsAHundredYears() throws {
        #expect(try DurationText.parse("36500d", option: "--every") == DurationText.maximum)
        #expect(DurationText.isInRange(DurationText.maximum))
        #expect(!DurationText.isInRange(DurationText.maximum + 1))
    }

    @Test(arguments: ["1e10", "inf", "nan", "3601", "-1", "2147484", "1e308", "15s", ""])
    func aBusyTimeoutOutOfRangeIsRefused(_ text: String) throws {
        let error = try #require(throws: RotorError.self) {
            try SQLiteStore.busyTimeout(parsing: text, option: "ROTOR_BUSY_TIMEOUT")
        }
        #expect(error.message.contains("from 0 to 3600"))
    }

    @Test func aBusyTimeoutInRangeIsTaken() throws {
        #expect(try SQLiteStore.busyTimeout(parsing: "0", option: "x") == 0)
        #expect(try SQLiteStore.busyTimeout(parsing: "0.5", option: "x") == 0.5)
        #expect(try SQLiteStore.busyTimeout(parsing: "3600", option: "x") == 3600)
    }

    @Test(arguments: [1e300, -1e300, Double.infinity, -Double.infinity, Double.nan, 1e15, -1e15])
    func anyDateFormatsAndSaturates(_ seconds: Double) {
        let date = Date(timeIntervalSince1970: seconds)
        #expect(RFC3339.format(date).utf8.count == 24)
        #expect(Date.rfc3339Range.contains(date.unixMilliseconds) || seconds.isNaN)
    }

    @Test func retryAfterIsCappedAtAnHour() throws {
        #expect(VendorError.parseRetryAfter("999999999") == VendorError.maximumRetryAfter)
        #expect(VendorError.parseRetryAfter("1e308") == VendorError.maximumRetryAfter)
        #expect(VendorError.parseRetryAfter("Fri, 31 Dec 9999 23:59:59 GMT") == VendorError.maximumRetryAfter)
        #expect(VendorError.parseRetryAfter("-5") == nil)
        #expect(VendorError.parseRetryAfter("soon") == nil)
    }
}
