import Foundation

/// When an app rotates by itself.
public enum Schedule: Sendable, Equatable, CustomStringConvertible {
    /// Only by hand.
    case none
    /// Every so many seconds, counted from the last successful rotation.
    case every(seconds: Int64)
    /// A standard 5-field cron expression, evaluated in the app's time zone.
    case cron(CronExpression)
    /// A stored schedule this Rotor cannot read (out of range, or written
    /// by hand): the app is never due until `rotor app set` gives it a new one.
    case damaged(kind: String, expression: String?)

    public var description: String {
        switch self {
        case .none: "manual"
        case .every(let seconds): "every \(DurationText.format(seconds))"
        case .cron(let expression): "cron \(expression.source)"
        case .damaged: "damaged (set it again with `rotor app set`)"
        }
    }

    public var kind: String {
        switch self {
        case .none: "none"
        case .every: "every"
        case .cron: "cron"
        case .damaged(let kind, _): kind
        }
    }

    /// The stored expression: seconds for `every`, the cron text for `cron`.
    public var expression: String? {
        switch self {
        case .none: nil
        case .every(let seconds): String(seconds)
        case .cron(let expression): expression.source
        case .damaged(_, let expression): expression
        }
    }

    /// Rebuilds a stored schedule; ``damaged(kind:expression:)`` when the
    /// stored text is not one this Rotor would have stored.
    public static func stored(kind: String, expression: String?) -> Schedule {
        switch (kind, expression) {
        case ("none", _): return Schedule.none
        case ("every", let text?):
            if let seconds = Int64(text), seconds > 0, DurationText.isInRange(seconds) {
                return .every(seconds: seconds)
            }
        case ("cron", let text?):
            if let cron = try? CronExpression(parsing: text) { return .cron(cron) }
        default: break
        }
        return .damaged(kind: kind, expression: expression)
    }
}

/// `DURATION` of `cli.md`: an integer and one unit of s, m, h, d.
public enum DurationText {
    /// The longest duration anything takes: 100 years (36500d). Beyond it
    /// times stop being representable, and no schedule or timeout needs it.
    public static let maximum: Int64 = 36_500 * 86400

    /// Seconds in `text`, or an error that says what is accepted.
    /// A timeout: a duration longer than 0s.
    public static func timeout(_ text: String, option: String) throws(RotorError) -> TimeInterval {
        let seconds = try parse(text, option: option)
        guard seconds > 0 else { throw RotorError(.invalidInput, "\(option) must be longer than 0s") }
        return TimeInterval(seconds)
    }

    public static func parse(_ text: String, option: String) throws(RotorError) -> Int64 {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        guard let unit = text.last, let scale = units[unit], text.dropLast().allSatisfy({ $0.isASCII && $0.isNumber }),
            let count = Int64(text.dropLast())
        else {
            throw RotorError(
                .invalidInput,
                "\(option) takes a whole number with a unit s, m, h or d (like 90s, 12h, 30d), not \(UserText.quoted(text))"
            )
        }
        guard count <= maximum / scale else {
            throw RotorError(
                .invalidInput, "\(option) \(UserText.quoted(text)) is too long: at most 36500d (100 years)")
        }
        return count * scale
    }

    /// Whether stored seconds are a duration ``parse(_:option:)`` could have returned.
    public static func isInRange(_ seconds: Int64) -> Bool {
        (0...maximum).contains(seconds)
    }

    /// The shortest exact text for `seconds` (`30d`, `90m`, `45s`).
    public static func format(_ seconds: Int64) -> String {
        for (unit, scale) in [("d", Int64(86400)), ("h", 3600), ("m", 60)] where seconds > 0 && seconds % scale == 0 {
            return "\(seconds / scale)\(unit)"
        }
        return "\(seconds)s"
    }

    /// A rough age for people: `3d`, `5h`, `12m`, `40s`.
    public static func age(_ seconds: Int64) -> String {
        switch seconds {
        case ..<60: "\(max(seconds, 0))s"
        case ..<3600: "\(seconds / 60)m"
        case ..<86400: "\(seconds / 3600)h"
        default: "\(seconds / 86400)d"
        }
    }
}

/// `--window HH:MM-HH:MM`: minutes of the day when scheduled rotations may
/// start. A window whose end is before its start crosses midnight.
public struct TimeWindow: Sendable, Equatable, CustomStringConvertible {
    public var start: Int
    public var end: Int

    public init(start: Int, end: Int) {
        self.start = start
        self.end = end
    }

    public init(parsing text: String) throws(RotorError) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let start = TimeWindow.minutes(parts[0]), let end = TimeWindow.minutes(parts[1]),
            start != end
        else {
            throw RotorError(
                .invalidInput,
                "--window takes HH:MM-HH:MM with two different times (like 02:00-05:00), not \(UserText.quoted(text))")
        }
        self.init(start: start, end: end)
    }

    private static func minutes(_ text: Substring) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let hour = Int(parts[0]),
            let minute = Int(parts[1]), (0..<24).contains(hour), (0..<60).contains(minute)
        else { return nil }
        return hour * 60 + minute
    }

    /// Whether a minute of the day lies in the window (start inclusive, end exclusive).
    public func contains(minuteOfDay minute: Int) -> Bool {
        start < end ? (start..<end).contains(minute) : (minute >= start || minute < end)
    }

    public var description: String {
        func text(_ minutes: Int) -> String {
            let h = minutes / 60
            let m = minutes % 60
            return (h < 10 ? "0" : "") + "\(h):" + (m < 10 ? "0" : "") + "\(m)"
        }
        return "\(text(start))-\(text(end))"
    }
}
