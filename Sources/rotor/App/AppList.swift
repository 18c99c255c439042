import ArgumentParser
import Foundation
import RotorCore

extension Rotor.App {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List applications.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await reporting(json: output.isJSON) {
                let ledger = try await global.openLedger()
                let apps = try await AppRegistry(ledger: ledger, checker: nil).list()
                let now = ledger.clock.now
                if output.isJSON {
                    Console.jsonArray(apps) { $0.json(at: now) }
                    return
                }
                Console.table(
                    ["NAME", "APPLICATION ID", "CLIENT ID", "SCHEDULE", "LAST ROTATION", "NEXT DUE", "SECRET AGE"],
                    apps.map { item in
                        [
                            item.app.name, item.app.applicationID, item.credential.clientID,
                            item.app.schedule.description, AppText.lastRotation(item.lastRotation),
                            AppText.nextDue(item), DurationText.age(item.secretAge(at: now)),
                        ]
                    })
            }
        }
    }
}
