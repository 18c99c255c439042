import ArgumentParser
import Foundation
import RotorCore

extension Rotor.App {
    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove",
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
