import Foundation
import Testing

@testable import RotorCore

/// `Retry-After` dates and `--since` timestamps are read byte by byte; these
/// pin the forms they accept against Foundation's own formatter.
struct DateParsingTests {
    /// Sun, 06 Nov 1994 08:49:37 GMT, the example of RFC 9110.
    let example = Date(timeIntervalSince1970: 784_111_777)

    @Test(arguments: [
        "Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
    ])
    func theThreeHTTPDateFormsAreRead(_ text: String) {
        #expect(HTTPDate.parse(text) == example)
    }

    @Test func anHTTPDateMatchesFoundationsFormatterAcrossTheYears() throws {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        var random = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let date = Date(
                timeIntervalSince1970: TimeInterval(Int64.random(in: -2_000_000_000...8_000_000_000, using: &random)))
            let text = formatter.string(from: date)
            #expect(HTTPDate.parse(text) == date, "\(text)")
        }
        #expect(
            HTTPDate.parse("Thu, 29 Feb 2024 00:00:00 GMT") == formatter.date(from: "Thu, 29 Feb 2024 00:00:00 GMT"))
    }

    @Test(arguments: [
        "", "soon", "Sun, 06 Nov 1994 08:49:37", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun, 06 nov 1994 08:49:37 GMT", "Sun, 31 Feb 1994 08:49:37 GMT", "Sun, 29 Feb 1900 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 08:60:00 GMT", "Sun, 06 Nov 1994 08:49:37 GMT ",
        "Sun, 06 Nov 1994 08:49:37 GMTx", "Sun, 00 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:3 GMT",
        "Wed, 21\u{7f0}\u{fffd}\u{fffd}26 07:28:00 GMT", "Sün, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMT" + String(repeating: " ", count: 100),
    ])
    func anythingElseIsNotAnHTTPDate(_ text: String) {
        #expect(HTTPDate.parse(text) == nil)
    }

    @Test func aRetryAfterDateThatIsNotASCIIIsIgnored() {
        // The input a fuzzer found to trap Foundation's date formatter.
        let bytes: [UInt8] =
            Array("Wed, 21".utf8) + [0xdf, 0xb0, 0xef, 0xbf, 0xbd, 0xef, 0xbf, 0xbd] + Array("26 07:28:00 GMT".utf8)
        #expect(VendorError.parseRetryAfter(String(decoding: bytes, as: UTF8.self)) == nil)
    }

    @Test(arguments: [
        ("2026-11-29T10:00:00Z", 1_795_946_400.0), ("2026-11-29T10:00:00.250Z", 1_795_946_400.25),
        ("2026-11-29T11:30:00+01:30", 1_795_946_400.0), ("2026-11-29T08:00:00-02:00", 1_795_946_400.0),
        ("2026-11-29t10:00:00z", 1_795_946_400.0), ("1970-01-01T00:00:00Z", 0),
        ("0000-01-01T00:00:00Z", -62_167_219_200),
        ("9999-12-31T23:59:59.999Z", 253_402_300_799.999),
    ])
    func anRFC3339TimestampIsRead(_ text: String, _ seconds: Double) throws {
        let date = try #require(RFC3339.parse(text))
        #expect(abs(date.timeIntervalSince1970 - seconds) < 0.0005)
    }

    @Test func anRFC3339TimestampMatchesFoundationsFormatter() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var random = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let millis = Int64.random(in: -2_000_000_000_000...8_000_000_000_000, using: &random)
            let date = Date(timeIntervalSince1970: TimeInterval(millis) / 1000)
            let text = RFC3339.format(date)
            #expect(RFC3339.parse(text)?.unixMilliseconds == millis, "\(text)")
            #expect(formatter.date(from: text)?.unixMilliseconds == millis, "\(text)")
        }
    }

    @Test(arguments: [
        "", "2026-11-29", "2026-11-29T10:00Z", "2026-11-29T10:00:00", "2026-11-29 10:00:00Z", "2026-13-01T00:00:00Z",
        "2026-02-29T00:00:00Z", "2026-11-29T10:00:00.Z", "2026-11-29T10:00:00+0100", "2026-11-29T10:00:00+24:00",
        "2026-11-29T10:00:00Zx", "+2026-11-29T10:00:00Z", "2026-11-29T10:00:00\u{7f0}Z", "２026-11-29T10:00:00Z",
    ])
    func anythingElseIsNotAnRFC3339Timestamp(_ text: String) {
        #expect(RFC3339.parse(text) == nil)
    }
}
