import ArgumentParser
import Foundation
import RotorCore

extension Rotor.Alert {
    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove an alert hook.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The alert id.") var id: Int64

        func run() async throws {
            try await reporting {
                try await TargetRegistry(ledger: try global.openLedger()).removeAlert(id: id)
                Console.out("Removed alert \(id).")
            }
        }
    }
}
