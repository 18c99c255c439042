import ArgumentParser
import Foundation
import RotorCore

extension Rotor.Alert {
    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove an alert hook.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The alert id.") var id: Int64

        func run() async throws {
            try await reporting(json: output.isJSON) {
                try await TargetRegistry(ledger: try global.openLedger()).removeAlert(id: id)
                try output.emit(
                    CommandReport(["alert_id": .int(id), "removed": true], lines: ["Removed alert \(id)."]))
            }
        }
    }
}
