import ArgumentParser
import Foundation
import RotorCore

extension Rotor {
    struct App: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "app",
            abstract: "Register, list, change and remove applications.",
            subcommands: [Add.self, List.self, Show.self, Set.self, Remove.self])
    }
}

/// Schedule flags shared by `app add` and `app set`.
struct ScheduleOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Rotate every DURATION after the last successful rotation (90s, 12h, 30d).", valueName: "duration"))
    var every: String?

    @Option(help: ArgumentHelp("Rotate at the times of a 5-field cron expression.", valueName: "expr"))
    var cron: String?

    @Option(
        help: ArgumentHelp("Delay each scheduled rotation by a random amount up to DURATION.", valueName: "duration"))
    var jitter: String?

    @Option(
        help: ArgumentHelp("Start scheduled rotations only between these times (HH:MM-HH:MM).", valueName: "window"))
    var window: String?

    @Option(help: ArgumentHelp("IANA time zone for --cron and --window (default UTC).", valueName: "tz"))
    var timezone: String?

    func validate() throws {
        if every != nil && cron != nil {
            throw ValidationError("give either --every or --cron, not both")
        }
    }

    /// The schedule asked for, or nil when neither flag was given.
    func schedule() throws(RotorError) -> Schedule? {
        if let every {
            let seconds = try DurationText.parse(every, option: "--every")
            guard seconds > 0 else { throw RotorError(.invalidInput, "--every must be longer than 0s") }
            return .every(seconds: seconds)
        }
        if let cron { return .cron(try CronExpression(parsing: cron)) }
        return nil
    }

    func jitterSeconds() throws(RotorError) -> Int64? {
        try jitter.map { text throws(RotorError) in try DurationText.parse(text, option: "--jitter") }
    }

    func timeWindow() throws(RotorError) -> TimeWindow? {
        try window.map { text throws(RotorError) in try TimeWindow(parsing: text) }
    }

    func timeZone() throws(RotorError) -> String? {
        try timezone.map { text throws(RotorError) in try Validate.timezone(text) }
    }
}

/// Formats shared by the app listings.
enum AppText {
    /// The JSON members of `app add` and `app set`: what the app is now.
    static func changed(_ app: AppRecord) -> [String: JSONValue] {
        [
            "app": .string(app.name), "application_id": .string(app.applicationID),
            "schedule": .string(app.schedule.description), "version": .int(Int64(app.currentVersion)),
            "enabled": .bool(app.enabled),
        ]
    }

    static func lastRotation(_ rotation: RotationSummary?) -> String {
        guard let rotation else { return "never" }
        return "\(RFC3339.format(rotation.finishedAt ?? rotation.startedAt)) \(rotation.state.rawValue)"
    }

    static func nextDue(_ overview: AppOverview) -> String {
        if !overview.app.enabled { return "disabled" }
        switch overview.app.schedule {
        case .none: return "manual"
        case .damaged: return noNextDue(overview.app)
        case .every, .cron: return overview.nextDue(at: Date()).map(RFC3339.format) ?? "never"
        }
    }

    /// NEXT DUE of an app that has no next due time.
    static func noNextDue(_ app: AppRecord) -> String {
        if case .damaged = app.schedule { return "never (damaged schedule)" }
        if app.attention != nil, app.schedule != .none { return "stopped (needs action)" }
        return app.enabled ? "manual" : "-"
    }
}
