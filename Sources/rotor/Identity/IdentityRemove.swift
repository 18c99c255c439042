import ArgumentParser
import RotorCore

extension Rotor.Identity {
    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove", abstract: "Remove an identity that no app uses.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The identity.") var name: String

        func run() async throws {
            try await reporting(json: output.isJSON) {
                try await IdentityRegistry(ledger: try global.openLedger(), api: nil).remove(name)
                try output.emit(
                    CommandReport(
                        ["identity": .string(name), "removed": true],
                        lines: ["Removed identity \(name) and its stored password and tokens."]))
            }
        }
    }
}
