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
                let ledger = try await global.openLedger()
                let groups = GroupRegistry(ledger: ledger)
                if try await groups.isGroup(name) {
                    // A group's targets, with their delivery of the group's version.
                    let detail = try await groups.show(name)
                    let rows = detail.targets.map { target, delivery -> (TargetRecord, String, String) in
                        (
                            target,
                            delivery?.state == .succeeded ? "delivered" : delivery == nil ? "pending" : "retrying",
                            delivery?.state == .succeeded ? "" : delivery?.lastError ?? ""
                        )
                    }
                    if output.isJSON {
                        Console.json(
                            .array(
                                rows.map { target, state, error in
                                    [
                                        "id": .int(target.id), "target": .string(target.summary),
                                        "group": .string(name), "version": .int(Int64(detail.state.version)),
                                        "state": .string(state), "last_error": error.isEmpty ? .null : .string(error),
                                    ]
                                }))
                        return
                    }
                    Console.table(
                        ["ID", "TARGET", "VERSION", "STATE", "ERROR"],
                        rows.map { ["\($0.0.id)", $0.0.summary, "\(detail.state.version)", $0.1, $0.2] })
                    return
                }
                let targets = try await TargetRegistry(ledger: ledger).list(app: name)
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
