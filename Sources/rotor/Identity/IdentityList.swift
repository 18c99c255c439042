import ArgumentParser
import RotorCore

extension Rotor.Identity {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List identities.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await reporting(json: output.isJSON) {
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
}
