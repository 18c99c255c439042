import ArgumentParser
import Foundation
import RotorCore

extension Rotor.App {
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
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
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard secretFromStdin != (secretFile != nil) else {
                throw ValidationError("give exactly one of --client-secret-stdin and --client-secret-file")
            }
        }

        func run() async throws {
            try await reporting(json: output.isJSON) {
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
                try output.emit(
                    CommandReport(
                        AppText.changed(app).merging(["verified": .bool(!noVerify)]) { $1 },
                        lines: [
                            "Added \(app.name) (application \(app.applicationID), \(app.schedule))\(noVerify ? "; the pair was not checked" : ", pair checked with the vendor")."
                        ]))
            }
        }
    }
}
