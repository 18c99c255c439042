import ArgumentParser
import Foundation
import RotorCore

extension Rotor.Target {
    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a target from an app.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The app.") var name: String
        @Argument(help: "The target id (see `rotor target list`).") var targetID: Int64

        func run() async throws {
            try await reporting(json: output.isJSON) {
                let ledger = try await global.openLedger()
                let groups = GroupRegistry(ledger: ledger)
                if try await groups.isGroup(name) {
                    try await groups.removeTarget(group: name, targetID: targetID)
                } else {
                    try await TargetRegistry(ledger: ledger).remove(app: name, targetID: targetID)
                }
                try output.emit(
                    CommandReport(
                        ["app": .string(name), "target_id": .int(targetID), "removed": true],
                        lines: ["Removed target \(targetID) from \(name)."]))
            }
        }
    }
}
