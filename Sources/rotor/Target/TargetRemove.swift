import ArgumentParser
import Foundation
import RotorCore

extension Rotor.Target {
    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a target from an app.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The app.") var name: String
        @Argument(help: "The target id (see `rotor target list`).") var targetID: Int64

        func run() async throws {
            try await reporting {
                try await TargetRegistry(ledger: try global.openLedger()).remove(app: name, targetID: targetID)
                Console.out("Removed target \(targetID) from \(name).")
            }
        }
    }
}
