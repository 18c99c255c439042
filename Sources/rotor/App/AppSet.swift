import ArgumentParser
import Foundation
import RotorCore

extension Rotor.App {
    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Change an application's schedule, settings or stored pair.",
            discussion: """
                A new --client-id with its secret replaces the stored pair only after the pair \
                passes a client-credentials grant: the way back after the vendor's support \
                issued a fresh pair. Recorded as app.updated with both fingerprints.
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
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
        @Option(
            name: .customLong("token-client"),
            help: ArgumentHelp(
                "Who may ask `rotor run --token-socket` for the app's access token: uid:N or group:NAME (repeatable; replaces the list).",
                valueName: "client"))
        var tokenClients: [String] = []
        @Flag(name: .customLong("no-token-clients"), help: "Nobody may ask the token broker for the app's token.")
        var noTokenClients = false

        func validate() throws {
            if noSchedule && (schedule.every != nil || schedule.cron != nil) {
                throw ValidationError("give one of --every, --cron and --no-schedule")
            }
            if identity != nil && noIdentity { throw ValidationError("give either --identity or --no-identity") }
            if !tokenClients.isEmpty && noTokenClients {
                throw ValidationError("give either --token-client or --no-token-clients")
            }
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
            try await reporting(json: output.isJSON) {
                var changes = AppChanges()
                changes.schedule = noSchedule ? Schedule.none : try schedule.schedule()
                changes.jitter = try schedule.jitterSeconds()
                if let window = try schedule.timeWindow() { changes.window = .some(window) }
                changes.timezone = try schedule.timeZone()
                changes.apiURL = try apiURL.map { text throws(RotorError) in try Validate.apiURL(text) }
                if let identity { changes.identity = .some(try Validate.name(identity, kind: "identity")) }
                if noIdentity { changes.identity = .some(nil) }
                if enable || disable { changes.enabled = enable }
                if !tokenClients.isEmpty {
                    changes.tokenClients = try tokenClients.map { text throws(RotorError) in
                        try TokenClient(parsing: text)
                    }
                }
                if noTokenClients { changes.tokenClients = [] }
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
                try output.emit(
                    CommandReport(
                        AppText.changed(app),
                        lines: ["Updated \(app.name) (\(app.schedule), version \(app.currentVersion))."]))
            }
        }
    }
}
