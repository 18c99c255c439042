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

        func run() async throws {
            try await reporting {
                let pair = try await AppRegistry(ledger: try global.openLedger(), checker: nil).reveal(name)
                if output.isJSON {
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
