import Foundation

/// Times for people: to the minute, in an app's own time zone, with the
/// zone's abbreviation (`2026-12-04 19:23 GMT+1`). Machines get RFC 3339 UTC.
///
/// A listing of 100,000 apps formats 200,000 times: UTC needs no time zone
/// at all, and another zone's offset and abbreviation are looked up once per
/// zone and hour (offsets change on hour boundaries), not once per time.
public struct LocalTime {
    private var zones: [String: TimeZone] = [:]
    private var offsets: [HourInZone: (offset: Int, abbreviation: String)] = [:]

    private struct HourInZone: Hashable {
        var zone: String
        var hour: Int64
    }

    public init() {}

    /// `date` in the zone named `identifier`; UTC when the name is unknown.
    public mutating func format(_ date: Date, zone identifier: String) -> String {
        let (offset, abbreviation) = identifier == "UTC" ? (0, "UTC") : shift(date, zone: identifier)
        var seconds = time_t((date.timeIntervalSince1970 + Double(offset)).rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var out: [UInt8] = []
        out.reserveCapacity(24)
        func digits(_ value: Int32, _ width: Int) {
            var divisor: Int32 = 1
            for _ in 1..<width { divisor *= 10 }
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
                divisor /= 10
            }
        }
        digits(parts.tm_year + 1900, 4)
        out.append(UInt8(ascii: "-"))
        digits(parts.tm_mon + 1, 2)
        out.append(UInt8(ascii: "-"))
        digits(parts.tm_mday, 2)
        out.append(UInt8(ascii: " "))
        digits(parts.tm_hour, 2)
        out.append(UInt8(ascii: ":"))
        digits(parts.tm_min, 2)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: abbreviation.utf8)
        return String(decoding: out, as: UTF8.self)
    }

    /// The zone's offset from UTC and its abbreviation at `date`.
    private mutating func shift(_ date: Date, zone identifier: String) -> (Int, String) {
        let key = HourInZone(zone: identifier, hour: Int64((date.timeIntervalSince1970 / 3600).rounded(.down)))
        if let known = offsets[key] { return known }
        let zone: TimeZone
        if let cached = zones[identifier] {
            zone = cached
        } else {
            zone = TimeZone(identifier: identifier) ?? TimeZone(identifier: "UTC")!
            zones[identifier] = zone
        }
        let offset = zone.secondsFromGMT(for: date)
        let abbreviation = zone.identifier == "UTC" ? "UTC" : zone.abbreviation(for: date) ?? "UTC"
        offsets[key] = (offset, abbreviation)
        return (offset, abbreviation)
    }
}
