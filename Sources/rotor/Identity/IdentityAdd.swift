import ArgumentParser
import RotorCore

extension Rotor.Identity {
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Add an identity; the password is checked with a password grant first.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "A local label: [a-z0-9][a-z0-9._-]*.") var name: String
        @Option(help: "The vitalera username.") var username: String
        @Flag(name: .customLong("password-stdin"), help: "Read the password from stdin.") var passwordFromStdin =
            false
        @Option(
            name: .customLong("password-file"),
            help: ArgumentHelp("Read the password from a file.", valueName: "path"))
        var passwordFile: String?
        @Option(name: .customLong("api-url"), help: "The vendor API (default https://api.vitalera.io).")
        var apiURL: String?

        func validate() throws {
            guard passwordFromStdin != (passwordFile != nil) else {
                throw ValidationError("give exactly one of --password-stdin and --password-file")
            }
        }

        func run() async throws {
            try await reporting(json: output.isJSON) {
                let name = try Validate.name(name, kind: "identity")
                let username = try Validate.identifier(username, option: "--username")
                let password = try SecretSource(
                    fromStdin: passwordFromStdin, file: passwordFile, option: "password"
                ).read()!
                let url = try Validate.apiURL(apiURL ?? AppRegistry.defaultAPIURL)
                let ledger = try await global.openLedger()
                try await withVendor { api in
                    try await IdentityRegistry(ledger: ledger, api: api).add(
                        name: name, username: username, password: password, apiURL: url)
                }
                try output.emit(
                    CommandReport(
                        ["identity": .string(name), "username": .string(username), "api_url": .string(url)],
                        lines: [
                            "Added identity \(name) (\(username) at \(url)); its password was checked with the vendor."
                        ]))
            }
        }
    }
}
