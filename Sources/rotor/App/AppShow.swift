import ArgumentParser
import Foundation
import RotorCore

extension Rotor.App {
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Show one application and its recent rotations. Never prints a secret.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The app.") var name: String

        func run() async throws {
            try await reporting(json: output.isJSON) {
                let ledger = try await global.openLedger()
                let detail = try await AppRegistry(ledger: ledger, checker: nil).show(name)
                let now = ledger.clock.now
                if output.isJSON {
                    Console.json(detail.json(at: now))
                    return
                }
                let item = detail.overview
                Console.fields([
                    ("name", item.app.name),
                    ("application id", item.app.applicationID),
                    ("client id", item.credential.clientID),
                    ("api url", item.app.apiURL),
                    ("schedule", item.app.schedule.description),
                    ("jitter", DurationText.format(item.app.jitter)),
                    ("window", item.app.window?.description ?? "any time"),
                    ("timezone", item.app.timezone),
                    ("identity", detail.identity ?? "none (rotates with its own token)"),
                    ("enabled", item.app.enabled ? "yes" : "no"),
                    (
                        "token clients",
                        detail.tokenClients.isEmpty ? "nobody" : detail.tokenClients.joined(separator: ", ")
                    ),
                    ("version", "\(item.credential.version) (fingerprint \(item.credential.fingerprint))"),
                    ("secret age", DurationText.age(item.secretAge(at: now))),
                    ("next due", AppText.nextDue(item)),
                ])
                Console.out("")
                if detail.rotations.isEmpty {
                    Console.out("No rotations yet.")
                } else {
                    Console.table(
                        ["ROTATION", "TRIGGER", "STATE", "STARTED", "FINISHED", "ERROR"],
                        detail.rotations.map { rotation in
                            [
                                String(rotation.id), rotation.trigger.rawValue, rotation.state.rawValue,
                                RFC3339.format(rotation.startedAt), rotation.finishedAt.map(RFC3339.format) ?? "-",
                                rotation.error ?? "",
                            ]
                        })
                }
            }
        }
    }
}
