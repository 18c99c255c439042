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
    /// Read from ASCII bytes, not with a date formatter (which can trap on
    /// arbitrary text).
    public static func parse(_ text: String) -> Date? {
        var reader = ASCIIReader(text.utf8)
        guard reader.isASCII, let year = reader.digits(count: 4), reader.skip("-"),
            let month = reader.digits(count: 2), reader.skip("-"), let day = reader.digits(count: 2),
            reader.skip("T") || reader.skip("t"), let time = reader.clock()
        else { return nil }
        var fraction = 0.0
        if reader.skip(".") {
            var scale = 0.1
            var count = 0
            while let digit = reader.digits(count: 1) {
                fraction += Double(digit) * scale
                scale /= 10
                count += 1
            }
            guard count > 0 else { return nil }
        }
        var offset = 0
        if !(reader.skip("Z") || reader.skip("z")) {
            let sign: Int
            if reader.skip("+") { sign = 1 } else if reader.skip("-") { sign = -1 } else { return nil }
            guard let hours = reader.digits(count: 2), hours <= 23, reader.skip(":"),
                let minutes = reader.digits(count: 2), minutes <= 59
            else { return nil }
            offset = sign * (hours * 3600 + minutes * 60)
        }
        guard reader.isAtEnd,
            let seconds = CivilTime(year: year, month: month, day: day, time: time).unixSeconds
        else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(seconds - Int64(offset)) + fraction)
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
