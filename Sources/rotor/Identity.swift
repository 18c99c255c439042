import ArgumentParser
import RotorCore

extension Rotor {
    struct Identity: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Manage vitalera users whose tokens rotate applications.",
            discussion: """
                An identity is a user of the organization (password grant). Its password, access \
                token and refresh token are stored encrypted. An app with --identity NAME is \
                rotated with that user's token; any app may use an identity to recover from a \
                lost rotation answer.
                """,
            subcommands: [Add.self, List.self, Remove.self])

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Add an identity; the password is checked with a password grant first.")

            @OptionGroup var global: GlobalOptions
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
                try await reporting {
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
                    Console.out(
                        "Added identity \(name) (\(username) at \(url)); its password was checked with the vendor.")
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List identities.")

            @OptionGroup var global: GlobalOptions
            @OptionGroup var output: OutputOptions

            func run() async throws {
                try await reporting {
                    let ledger = try await global.openLedger()
                    let identities = try await IdentityRegistry(ledger: ledger, api: nil).list()
                    let apps = try await AppRegistry(ledger: ledger, checker: nil).list()
                    func users(_ id: Int64) -> [String] { apps.filter { $0.app.identityID == id }.map(\.app.name) }
                    if output.isJSON {
                        Console.json(
                            .array(
                                identities.map {
                                    [
                                        "name": .string($0.name), "username": .string($0.username),
                                        "api_url": .string($0.apiURL),
                                        "apps": .array(users($0.id).map(JSONValue.string)),
                                    ]
                                }))
                        return
                    }
                    Console.table(
                        ["NAME", "USERNAME", "API URL", "APPS"],
                        identities.map { [$0.name, $0.username, $0.apiURL, users($0.id).joined(separator: ",")] })
                }
            }
        }

        struct Remove: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Remove an identity that no app uses.")

            @OptionGroup var global: GlobalOptions
            @Argument(help: "The identity.") var name: String

            func run() async throws {
                try await reporting {
                    try await IdentityRegistry(ledger: try global.openLedger(), api: nil).remove(name)
                    Console.out("Removed identity \(name) and its stored password and tokens.")
                }
            }
        }
    }
}
