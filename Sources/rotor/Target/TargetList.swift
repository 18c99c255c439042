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
            try await reporting(json: output.isJSON) {
                let targets = try await TargetRegistry(ledger: try global.openLedger()).list(app: name)
                if output.isJSON {
                    Console.jsonArray(targets, TargetText.json)
                    return
                }
                Console.table(
                    ["ID", "TARGET", "VERSION", "STATE", "ERROR", "OUTPUT"],
                    targets.map { item in
                        [
                            String(item.target.id), item.target.summary,
                            item.deliveredVersion.map { String($0) } ?? "-", item.state,
                            item.state == "delivered" ? "" : item.latest?.lastError ?? "",
                            TargetText.lastLine(item.latest?.output),
                        ]
                    })
            }
        }
    }
}
