import ArgumentParser
import Foundation
import RotorCore

extension Rotor.Audit {
    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "prune",
            abstract: "Remove the events before T, keeping a checkpoint so verification still passes.",
            discussion: "Only a chain that verifies is pruned. Export first if the events must be kept.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Option(help: ArgumentHelp("Remove events before T.", valueName: "T")) var before: String

        func run() async throws {
            try await reporting(json: output.isJSON) {
                let ledger = try await global.openLedger()
                let time = try AuditLog.time(before, option: "--before", now: ledger.clock.now)
                let result = try await AuditLog(ledger: ledger).prune(before: time)
                try output.emit(
                    CommandReport(
                        ["removed": .int(result.removed), "before": .string(time), "base_id": .int(result.baseID)],
                        lines: [
                            "removed \(result.removed) events before \(time); the chain now starts after event \(result.baseID)"
                        ]))
            }
        }
    }
}
