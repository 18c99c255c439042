import ArgumentParser
import RotorCore

extension Rotor.Identity {
    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove", abstract: "Remove an identity that no app uses.")

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
