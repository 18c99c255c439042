import ArgumentParser
import Foundation
import RotorCore

extension Rotor {
    struct App: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
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
        return app.enabled ? "manual" : "-"
    }
}

extension Rotor.App {
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register an application with its existing client ID and secret.",
            discussion: """
                The secret is read from stdin or a file, never from the command line. Unless \
                --no-verify, the pair is checked with a client-credentials grant first and a \
                rejected pair is not stored. Adding never rotates.
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: "A local label: [a-z0-9][a-z0-9._-]*.") var name: String
        @Option(name: .customLong("application-id"), help: "The vendor's application ID (used to rotate).")
        var applicationID: String
        @Option(name: .customLong("client-id"), help: "The current client ID.") var clientID: String
        @Flag(name: .customLong("client-secret-stdin"), help: "Read the client secret from stdin.")
        var secretFromStdin = false
        @Option(
            name: .customLong("client-secret-file"),
            help: ArgumentHelp("Read the client secret from a file.", valueName: "path"))
        var secretFile: String?
        @Option(name: .customLong("api-url"), help: "The vendor API (default https://api.vitalera.io).")
        var apiURL: String?
        @OptionGroup var schedule: ScheduleOptions
        @Option(help: "Rotate with this identity's token instead of the app's own.") var identity: String?
        @Flag(name: .customLong("no-verify"), help: "Store the pair without checking it with the vendor.")
        var noVerify = false

        func validate() throws {
            guard secretFromStdin != (secretFile != nil) else {
                throw ValidationError("give exactly one of --client-secret-stdin and --client-secret-file")
            }
        }

        func run() async throws {
            try await reporting {
                let spec = AppSpec(
                    name: try Validate.name(name),
                    applicationID: try Validate.identifier(applicationID, option: "--application-id"),
                    clientID: try Validate.identifier(clientID, option: "--client-id"),
                    clientSecret: try SecretSource(
                        fromStdin: secretFromStdin, file: secretFile, option: "client secret"
                    )
                    .read()!,
                    apiURL: try Validate.apiURL(apiURL ?? AppRegistry.defaultAPIURL),
                    schedule: try schedule.schedule() ?? .none,
                    jitter: try schedule.jitterSeconds() ?? 0,
                    window: try schedule.timeWindow(),
                    timezone: try schedule.timeZone() ?? "UTC",
                    identity: try identity.map { name throws(RotorError) in try Validate.name(name, kind: "identity") })
                let ledger = try await global.openLedger()
                let app = try await withVendor { api in
                    try await AppRegistry(ledger: ledger, checker: VendorPairChecker(api: api)).add(
                        spec, verify: !noVerify)
                }
                Console.out(
                    "Added \(app.name) (application \(app.applicationID), \(app.schedule))\(noVerify ? "; the pair was not checked" : ", pair checked with the vendor")."
                )
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List applications.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await reporting {
                let ledger = try await global.openLedger()
                let apps = try await AppRegistry(ledger: ledger, checker: nil).list()
                let now = ledger.clock.now
                if output.isJSON {
                    Console.jsonArray(apps) { $0.json(at: now) }
                    return
                }
                Console.table(
                    ["NAME", "APPLICATION ID", "CLIENT ID", "SCHEDULE", "LAST ROTATION", "NEXT DUE", "SECRET AGE"],
                    apps.map { item in
                        [
                            item.app.name, item.app.applicationID, item.credential.clientID,
                            item.app.schedule.description, AppText.lastRotation(item.lastRotation),
                            AppText.nextDue(item), DurationText.age(item.secretAge(at: now)),
                        ]
                    })
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one application and its recent rotations. Never prints a secret.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The app.") var name: String

        func run() async throws {
            try await reporting {
                let ledger = try await global.openLedger()
                let detail = try await AppRegistry(ledger: ledger, checker: nil).show(name)
                let now = ledger.clock.now
                if output.isJSON {
                    Console.json(detail.json(at: now))
                    return
                }
                let item = detail.overview
                Console.fields([
                    ("name", item.app.name),
                    ("application id", item.app.applicationID),
                    ("client id", item.credential.clientID),
                    ("api url", item.app.apiURL),
                    ("schedule", item.app.schedule.description),
                    ("jitter", DurationText.format(item.app.jitter)),
                    ("window", item.app.window?.description ?? "any time"),
                    ("timezone", item.app.timezone),
                    ("identity", detail.identity ?? "none (rotates with its own token)"),
                    ("enabled", item.app.enabled ? "yes" : "no"),
                    ("version", "\(item.credential.version) (fingerprint \(item.credential.fingerprint))"),
                    ("secret age", DurationText.age(item.secretAge(at: now))),
                    ("next due", AppText.nextDue(item)),
                ])
                Console.out("")
                if detail.rotations.isEmpty {
                    Console.out("No rotations yet.")
                } else {
                    Console.table(
                        ["ROTATION", "TRIGGER", "STATE", "STARTED", "FINISHED", "ERROR"],
                        detail.rotations.map { rotation in
                            [
                                String(rotation.id), rotation.trigger.rawValue, rotation.state.rawValue,
                                RFC3339.format(rotation.startedAt), rotation.finishedAt.map(RFC3339.format) ?? "-",
                                rotation.error ?? "",
                            ]
                        })
                }
            }
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change an application's schedule, settings or stored pair.",
            discussion: """
                A new --client-id with its secret replaces the stored pair only after the pair \
                passes a client-credentials grant: the way back after the vendor's support \
                issued a fresh pair. Recorded as app.updated with both fingerprints.
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The app.") var name: String
        @OptionGroup var schedule: ScheduleOptions
        @Flag(name: .customLong("no-schedule"), help: "Rotate only by hand.") var noSchedule = false
        @Option(name: .customLong("api-url"), help: "The vendor API.") var apiURL: String?
        @Option(help: "Rotate with this identity's token.") var identity: String?
        @Flag(name: .customLong("no-identity"), help: "Rotate with the app's own token.") var noIdentity = false
        @Flag(help: "Enable scheduled rotation.") var enable = false
        @Flag(help: "Disable scheduled rotation.") var disable = false
        @Option(name: .customLong("client-id"), help: "A new client ID (with its secret).") var clientID: String?
        @Flag(name: .customLong("client-secret-stdin"), help: "Read the new client secret from stdin.")
        var secretFromStdin = false
        @Option(
            name: .customLong("client-secret-file"),
            help: ArgumentHelp("Read the new client secret from a file.", valueName: "path"))
        var secretFile: String?
        @Flag(name: .customLong("no-verify"), help: "Store a new pair without checking it with the vendor.")
        var noVerify = false

        func validate() throws {
            if noSchedule && (schedule.every != nil || schedule.cron != nil) {
                throw ValidationError("give one of --every, --cron and --no-schedule")
            }
            if identity != nil && noIdentity { throw ValidationError("give either --identity or --no-identity") }
            if enable && disable { throw ValidationError("give either --enable or --disable") }
            if secretFromStdin && secretFile != nil {
                throw ValidationError("give only one of --client-secret-stdin and --client-secret-file")
            }
            if (clientID != nil) != (secretFromStdin || secretFile != nil) {
                throw ValidationError(
                    "--client-id and a new secret (--client-secret-stdin or --client-secret-file) go together")
            }
        }

        func run() async throws {
            try await reporting {
                var changes = AppChanges()
                changes.schedule = noSchedule ? Schedule.none : try schedule.schedule()
                changes.jitter = try schedule.jitterSeconds()
                if let window = try schedule.timeWindow() { changes.window = .some(window) }
                changes.timezone = try schedule.timeZone()
                changes.apiURL = try apiURL.map { text throws(RotorError) in try Validate.apiURL(text) }
                if let identity { changes.identity = .some(try Validate.name(identity, kind: "identity")) }
                if noIdentity { changes.identity = .some(nil) }
                if enable || disable { changes.enabled = enable }
                if let clientID {
                    let id = try Validate.identifier(clientID, option: "--client-id")
                    let secret = try SecretSource(fromStdin: secretFromStdin, file: secretFile, option: "client secret")
                        .read()!
                    changes.pair = ClientPair(clientID: id, secret: secret)
                }
                let ledger = try await global.openLedger()
                let app = try await withVendor { api in
                    try await AppRegistry(ledger: ledger, checker: VendorPairChecker(api: api)).set(
                        try Validate.name(name), changes, verify: !noVerify)
                }
                Console.out("Updated \(app.name) (\(app.schedule), version \(app.currentVersion)).")
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete an application and its stored secrets. Its audit events stay.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The app.") var name: String

        func run() async throws {
            try await reporting {
                try await AppRegistry(ledger: try global.openLedger(), checker: nil).remove(name)
                Console.out("Removed \(name) and its stored secrets; its audit events stay.")
            }
        }
    }
}
