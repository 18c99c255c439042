import Foundation

/// Times for people: to the minute, in an app's own time zone, with the
/// zone's abbreviation (`2026-12-04 19:23 CET`). Machines get RFC 3339 UTC.
public struct LocalTime {
    private var zones: [String: TimeZone] = [:]

    public init() {}

    /// `date` in the zone named `identifier`; UTC when the name is unknown.
    public mutating func format(_ date: Date, zone identifier: String) -> String {
        let zone: TimeZone
        if let known = zones[identifier] {
            zone = known
        } else {
            zone = TimeZone(identifier: identifier) ?? TimeZone(identifier: "UTC")!
            zones[identifier] = zone
        }
        let offset = zone.secondsFromGMT(for: date)
        var seconds = time_t((date.timeIntervalSince1970 + Double(offset)).rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : String(value) }
        let year = Int(parts.tm_year) + 1900
        let abbreviation = zone.abbreviation(for: date) ?? "UTC"
        return
            "\(year)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday)) \(two(parts.tm_hour)):\(two(parts.tm_min)) \(abbreviation == "GMT" && identifier == "UTC" ? "UTC" : abbreviation)"
    }
}
