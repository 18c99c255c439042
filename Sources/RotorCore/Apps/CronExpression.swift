import Foundation

/// A standard 5-field cron expression: minute, hour, day of month, month,
/// day of week. Fields take `*`, numbers, ranges `a-b`, steps `*/n` and
/// `a-b/n`, lists `a,b`, month and weekday names (`jan`, `mon`), and 7 for
/// Sunday. The macros `@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly`
/// (and `@annually`) stand for their usual expressions.
public struct CronExpression: Sendable, Equatable {
    public let source: String
    public let minutes: Set<Int>
    public let hours: Set<Int>
    public let daysOfMonth: Set<Int>
    public let months: Set<Int>
    /// 0 = Sunday … 6 = Saturday.
    public let daysOfWeek: Set<Int>
    /// Whether the day-of-month field was `*` (cron's OR rule needs to know).
    public let daysOfMonthIsWildcard: Bool
    public let daysOfWeekIsWildcard: Bool

    private static let macros = [
        "@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
        "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *",
    ]
    private static let monthNames = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ]
    private static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    public init(parsing text: String) throws(RotorError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let expanded = CronExpression.macros[trimmed] ?? trimmed
        let fields = expanded.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count == 5 else {
            throw RotorError(
                .invalidInput,
                "--cron takes 5 fields (minute hour day-of-month month day-of-week), like \"0 3 * * 1\"; \(UserText.quoted(text)) has \(fields.count)"
            )
        }
        func field(_ index: Int, _ name: String, _ range: ClosedRange<Int>, _ names: [String] = [], offset: Int = 0)
            throws(RotorError) -> Set<Int>
        {
            guard
                let values = CronExpression.parseField(
                    String(fields[index]), range: range, names: names, offset: offset)
            else {
                throw RotorError(
                    .invalidInput,
                    "--cron field \(index + 1) (\(name)) \(UserText.quoted(fields[index])) is not valid; it takes values \(range.lowerBound)-\(range.upperBound)"
                )
            }
            return values
        }
        source = text.trimmingCharacters(in: .whitespaces)
        minutes = try field(0, "minute", 0...59)
        hours = try field(1, "hour", 0...23)
        daysOfMonth = try field(2, "day of month", 1...31)
        months = try field(3, "month", 1...12, CronExpression.monthNames, offset: 1)
        daysOfWeek = Set(try field(4, "day of week", 0...7, CronExpression.dayNames).map { $0 % 7 })
        daysOfMonthIsWildcard = fields[2].hasPrefix("*")
        daysOfWeekIsWildcard = fields[4].hasPrefix("*")
    }

    private static func parseField(_ text: String, range: ClosedRange<Int>, names: [String], offset: Int) -> Set<Int>? {
        var values = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2 else { return nil }
            var step = 1
            if pieces.count == 2 {
                guard let parsed = Int(pieces[1]), parsed > 0 else { return nil }
                step = parsed
            }
            var low: Int
            var high: Int
            if pieces[0] == "*" {
                low = range.lowerBound
                high = range.upperBound
            } else {
                let bounds = pieces[0].split(separator: "-", omittingEmptySubsequences: false)
                guard bounds.count <= 2, let first = value(bounds[0], names: names, offset: offset) else { return nil }
                low = first
                if bounds.count == 2 {
                    guard let last = value(bounds[1], names: names, offset: offset) else { return nil }
                    high = last
                } else {
                    high = pieces.count == 2 ? range.upperBound : first
                }
            }
            guard range.contains(low), range.contains(high), low <= high else { return nil }
            values.formUnion(stride(from: low, through: high, by: step))
        }
        return values
    }

    private static func value(_ text: Substring, names: [String], offset: Int) -> Int? {
        if let number = Int(text), text.allSatisfy(\.isNumber) { return number }
        return names.firstIndex(of: String(text)).map { $0 + offset }
    }
}
