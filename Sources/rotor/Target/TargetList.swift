import ArgumentParser
import Foundation
import RotorCore

extension Rotor.Target {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List an app's targets and their deliveries.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The app.") var name: String

        func run() async throws {
            try await reporting {
                let targets = try await TargetRegistry(ledger: try global.openLedger()).list(app: name)
                if output.isJSON {
                    Console.json(
                        .array(
                            targets.map { item in
                                [
                                    "id": .int(item.target.id), "target": .string(item.target.summary),
                                    "enabled": .bool(item.target.enabled),
                                    "version": .optional(item.latest?.version),
                                    "state": .optional(item.latest?.state.rawValue),
                                    "attempts": .optional(item.latest?.attempts),
                                    "error": .optional(item.latest?.lastError),
                                    "last_error": .optional(item.latest?.lastError),
                                    "last_output": .optional(item.latest?.output),
                                    "last_attempt": .optional(item.latest?.lastAttemptAt.map(RFC3339.format)),
                                    "next_attempt": .optional(item.latest?.nextAttemptAt.map(RFC3339.format)),
                                ]
                            }))
                    return
                }
                Console.table(
                    ["ID", "TARGET", "VERSION", "STATE", "ERROR", "OUTPUT"],
                    targets.map { item in
                        [
                            String(item.target.id), item.target.summary,
                            item.latest.map { String($0.version) } ?? "-",
                            item.latest?.state.rawValue ?? "never delivered", item.latest?.lastError ?? "",
                            TargetText.lastLine(item.latest?.output),
                        ]
                    })
            }
        }
    }
}
