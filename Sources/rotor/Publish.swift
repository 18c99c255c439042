import ArgumentParser
import Foundation
import RotorCore
import VitaleraClient

extension Rotor {
    struct Publish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "publish",
            abstract: "Deliver an app's current pair to every target again, now.",
            discussion: "Exit 0 when every target has it, 3 when a delivery failed (it is retried by `rotor run`).")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The app.") var name: String

        func run() async throws {
            try await reporting(json: output.isJSON) {
                let ledger = try await global.openLedger()
                if try await GroupRegistry(ledger: ledger).isGroup(name) {
                    let outcomes = try await GroupDelivery(ledger: ledger, spawner: HookRunner()).deliverDue(
                        now: ledger.clock.now, only: name, force: true)
                    var report = CommandReport([
                        "group": .string(name),
                        "targets": .array(
                            outcomes.map {
                                [
                                    "id": .int($0.target.id), "target": .string($0.target.summary),
                                    "state": .string($0.error == nil ? "succeeded" : "failed"),
                                    "error": .optional($0.error),
                                ]
                            }),
                    ])
                    for outcome in outcomes {
                        let line =
                            "target \(outcome.target.id) (\(outcome.target.summary)): \(outcome.error ?? "delivered")"
                        if outcome.error == nil { report.lines.append(line) } else { report.errors.append(line) }
                    }
                    if outcomes.isEmpty {
                        report.lines = [
                            "group \(name) has no targets, is held, or another process is delivering it now (see `rotor group show \(name)`)."
                        ]
                    }
                    report.exit = outcomes.contains { $0.error != nil } ? .pending : .success
                    try output.emit(report)
                    return
                }
                let outcomes = try await withVendor { api in
                    try await TargetRegistry(ledger: ledger).publish(
                        app: name, using: DeliveryService(ledger: ledger, webhooks: HTTPWebhookPoster(http: api.http)))
                }
                var report = CommandReport([
                    "app": .string(name),
                    "targets": .array(
                        outcomes.map { outcome in
                            [
                                "id": .int(outcome.target.id), "target": .string(outcome.target.summary),
                                "state": .string(outcome.state.rawValue), "detail": .string(outcome.detail),
                            ]
                        }),
                ])
                if outcomes.isEmpty {
                    report.lines = ["\(name) has no targets; add one with `rotor target add \(name) --file PATH`."]
                }
                for outcome in outcomes {
                    let line =
                        "target \(outcome.target.id) (\(outcome.target.summary)): \(outcome.state.rawValue), \(outcome.detail)"
                    if outcome.state == .succeeded { report.lines.append(line) } else { report.errors.append(line) }
                }
                if outcomes.contains(where: { $0.state == .failed || $0.state == .pending }) { report.exit = .pending }
                try output.emit(report)
            }
        }
    }
}
