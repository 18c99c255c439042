import ArgumentParser
import Foundation
import RotorCore

extension Rotor {
    struct Publish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "publish",
            abstract: "Deliver an app's current pair to every target again, now.",
            discussion: "Exit 0 when every target has it, 3 when a delivery failed (it is retried by `rotor run`).")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The app.") var name: String

        func run() async throws {
            try await reporting {
                let ledger = try await global.openLedger()
                let outcomes = try await TargetRegistry(ledger: ledger).publish(
                    app: name, using: DeliveryService(ledger: ledger))
                if outcomes.isEmpty {
                    Console.out("\(name) has no targets; add one with `rotor target add \(name) --file PATH`.")
                    return
                }
                for outcome in outcomes {
                    let line =
                        "target \(outcome.target.id) (\(outcome.target.summary)): \(outcome.state.rawValue), \(outcome.detail)"
                    if outcome.state == .succeeded { Console.out(line) } else { Console.error(line) }
                }
                if outcomes.contains(where: { $0.state == .failed || $0.state == .pending }) {
                    throw ExitCode(ExitStatus.pending.rawValue)
                }
            }
        }
    }
}
