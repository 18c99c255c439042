import Foundation

/// RFC 3339 timestamps in UTC with milliseconds; the fixed width makes them
/// sort as text.
public enum RFC3339 {
    /// Years 0000 to 9999; a date outside them is written as the nearest end.
    public static func format(_ date: Date) -> String {
        let millis = date.unixMilliseconds
        var seconds = time_t(millis / 1000)
        var ms = Int(millis % 1000)
        if ms < 0 {
            ms += 1000
            seconds -= 1
        }
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var out: [UInt8] = []
        out.reserveCapacity(24)
        func digits(_ value: Int, _ width: Int) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
                rest %= divisor
                divisor /= 10
            }
        }
        digits(Int(parts.tm_year) + 1900, 4)
        out.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mon) + 1, 2)
        out.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mday), 2)
        out.append(UInt8(ascii: "T"))
        digits(Int(parts.tm_hour), 2)
        out.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_min), 2)
        out.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_sec), 2)
        out.append(UInt8(ascii: "."))
        digits(ms, 3)
        out.append(UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses `2026-11-29T10:00:00Z`, with optional fraction and offset.
    public static func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}

extension Date {
    /// The first and last instants RFC 3339 can write: 0000-01-01 and 9999-12-31 UTC.
    public static let rfc3339Range: ClosedRange<Int64> = -62_167_219_200_000...253_402_300_799_999

    /// Unix milliseconds, held to ``rfc3339Range`` (so that no date, however
    /// far off or not a number, traps when it is converted).
    public var unixMilliseconds: Int64 {
        let value = (timeIntervalSince1970 * 1000).rounded()
        guard value.isFinite else {
            return value.isNaN ? 0 : (value < 0 ? Self.rfc3339Range.lowerBound : Self.rfc3339Range.upperBound)
        }
        return Int64(min(max(value, Double(Self.rfc3339Range.lowerBound)), Double(Self.rfc3339Range.upperBound)))
    }
}
