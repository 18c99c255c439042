import ArgumentParser
import RotorCore

extension Rotor.SecretGroup {
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Print an app's current client ID and secret (recorded as secret.revealed).")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The app.") var name: String
        @Option(
            help: ArgumentHelp(
                "Print this value alone and a newline, for $(…): application_id, client_id or client_secret.",
                valueName: "field"))
        var field: Field?

        enum Field: String, ExpressibleByArgument, CaseIterable {
            case applicationID = "application_id"
            case clientID = "client_id"
            case clientSecret = "client_secret"
        }

        func validate() throws {
            if field != nil, output.isJSON { throw ValidationError("--field prints one value; leave out --json") }
        }

        func run() async throws {
            try await reporting(json: output.isJSON) {
                let pair = try await AppRegistry(ledger: try global.openLedger(), checker: nil).reveal(name)
                if let field {
                    switch field {
                    case .applicationID: Console.out(pair.applicationID)
                    case .clientID: Console.out(pair.clientID)
                    case .clientSecret: Console.out(pair.clientSecret.reveal())
                    }
                } else if output.isJSON {
                    Console.json([
                        "app": .string(pair.app), "application_id": .string(pair.applicationID),
                        "client_id": .string(pair.clientID), "client_secret": .string(pair.clientSecret.reveal()),
                        "version": .int(Int64(pair.version)), "fingerprint": .string(pair.fingerprint),
                    ])
                } else {
                    Console.fields([
                        ("application_id", pair.applicationID), ("client_id", pair.clientID),
                        ("client_secret", pair.clientSecret.reveal()), ("version", String(pair.version)),
                        ("fingerprint", pair.fingerprint),
                    ])
                }
            }
        }
    }
}
