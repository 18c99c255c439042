import ArgumentParser
import Foundation
import RotorCore

extension Rotor.Audit {
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Check the audit log's hash chain; exit 0 when intact.",
            discussion: """
                Names the first event whose hash does not match, any gap in the ids, and a \
                truncated tail (the chain's keyed head checkpoint). With --file, checks an \
                export from `rotor audit export` on its own, without the database.
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Option(help: ArgumentHelp("Verify this jsonl export instead of the database.", valueName: "path"))
        var file: String?

        func run() async throws {
            try await reporting(json: output.isJSON) {
                let result: AuditLog.Verification
                if let file {
                    guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                        throw RotorError(.invalidInput, "cannot read \(file) as text")
                    }
                    result = AuditLog.verifyExport(lines: text.split(separator: "\n"))
                } else {
                    let progress = Progress("verifying the audit chain")
                    defer { progress.finish() }
                    result = try await AuditLog(ledger: try global.openLedger()).verify(progress: progress.report)
                    progress.finish()
                }
                var report = CommandReport([
                    "intact": .bool(result.firstBreak == nil), "checked": .int(Int64(result.checked)),
                    "first_break": .optional(result.firstBreak.map { "\($0)" }),
                ])
                if let failure = result.firstBreak {
                    report.errors = [
                        "the audit chain is broken at \(failure); \(result.checked) events before it verify"
                    ]
                    report.exit = .failed
                } else {
                    report.lines = ["the audit chain of \(result.checked) events is intact"]
                }
                try output.emit(report)
            }
        }
    }
}
