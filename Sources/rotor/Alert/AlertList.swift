import ArgumentParser
import Foundation
import RotorCore

extension Rotor.Alert {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List alert hooks.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await reporting(json: output.isJSON) {
                let alerts = try await TargetRegistry(ledger: try global.openLedger()).alerts()
                if output.isJSON {
                    Console.json(
                        .array(
                            alerts.map {
                                [
                                    "id": .int($0.id), "command": .string($0.command),
                                    "timeout_seconds": .int(Int64($0.timeout)),
                                    "on": .array($0.events.sorted().map { .string($0.rawValue) }),
                                ]
                            }))
                    return
                }
                Console.table(
                    ["ID", "COMMAND", "TIMEOUT", "ON"],
                    alerts.map {
                        [String($0.id), $0.command, DurationText.format(Int64($0.timeout)), AlertEvent.text($0.events)]
                    })
            }
        }
    }
}
