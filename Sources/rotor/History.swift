import ArgumentParser
import Foundation
import RotorCore

extension Rotor {
    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "history", abstract: "Rotations, newest first.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "Only this app.") var name: String?
        @Option(help: "At most this many rotations.") var limit = 50

        func validate() throws {
            guard limit > 0 else { throw ValidationError("--limit must be at least 1") }
        }

        func run() async throws {
            try await reporting(json: output.isJSON) {
                let entries = try await RotationHistory(ledger: try global.openLedger()).list(app: name, limit: limit)
                if output.isJSON {
                    Console.jsonArray(entries, \.json)
                    return
                }
                Console.table(
                    ["ID", "APP", "TRIGGER", "STATE", "STARTED", "FINISHED", "ERROR"],
                    entries.map { entry in
                        let rotation = entry.rotation
                        return [
                            String(rotation.id), entry.app, rotation.trigger.rawValue, rotation.state.rawValue,
                            RFC3339.format(rotation.startedAt), rotation.finishedAt.map(RFC3339.format) ?? "-",
                            rotation.error ?? "",
                        ]
                    })
            }
        }
    }
}
