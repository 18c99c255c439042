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
                let ledger = try await global.openLedger()
                let alerts = try await TargetRegistry(ledger: ledger).alerts()
                // Sends that failed and wait for their retry, by alert.
                let queue = try await ledger.read { try $0.queuedAlerts(dueBy: .distantFuture) }
                func queued(_ id: Int64) -> [QueuedAlert] { queue.filter { $0.alertID == id } }
                if output.isJSON {
                    Console.json(
                        .array(
                            alerts.map {
                                [
                                    "id": .int($0.id), "command": .string($0.command),
                                    "timeout_seconds": .int(Int64($0.timeout)),
                                    "on": .array($0.events.sorted().map { .string($0.rawValue) }),
                                    "queued": .int(Int64(queued($0.id).count)),
                                    "last_error": .optional(queued($0.id).last?.lastError),
                                ]
                            }))
                    return
                }
                Console.table(
                    ["ID", "COMMAND", "TIMEOUT", "ON", "QUEUED"],
                    alerts.map {
                        let waiting = queued($0.id)
                        return [
                            String($0.id), $0.command, DurationText.format(Int64($0.timeout)),
                            AlertEvent.text($0.events),
                            waiting.isEmpty ? "-" : "\(waiting.count) (\(waiting.last?.lastError ?? "failed"))",
                        ]
                    })
            }
        }
    }
}
