import ArgumentParser
import Foundation
import RotorCore

extension Rotor.Audit {
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export",
            abstract: "Write the audit log as jsonl, oldest first, verifiable on its own.",
            discussion: "Each line carries its hash and the previous hash; `rotor audit verify --file` checks it.")

        @OptionGroup var global: GlobalOptions
        @Option(help: ArgumentHelp("Events at or after T.", valueName: "T")) var since: String?

        func run() async throws {
            try await reporting {
                let ledger = try await global.openLedger()
                let log = AuditLog(ledger: ledger)
                let start = try since.map { text throws(RotorError) in
                    try AuditLog.time(text, option: "--since", now: ledger.clock.now)
                }
                var last: Int64 = 0
                var printer = AuditPrinter(format: .jsonl)
                let progress = Progress("exporting the audit log")
                defer { progress.finish() }
                let head = try await ledger.read { try $0.auditHead() }
                var written = 0
                while true {
                    let batch = try await log.events(after: last, since: start)
                    if batch.isEmpty { break }
                    printer.print(batch)
                    last = batch.last!.id
                    written += batch.count
                    progress.update(written, of: Int((head?.lastID ?? 0) - (head?.baseID ?? 0)))
                }
            }
        }
    }
}
