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
        @Option(help: ArgumentHelp("Verify this jsonl export instead of the database.", valueName: "path"))
        var file: String?

        func run() async throws {
            try await reporting {
                let result: AuditLog.Verification
                if let file {
                    guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                        throw RotorError(.invalidInput, "cannot read \(file) as text")
                    }
                    result = AuditLog.verifyExport(lines: text.split(separator: "\n"))
                } else {
                    result = try await AuditLog(ledger: try global.openLedger()).verify()
                }
                if let failure = result.firstBreak {
                    Console.error(
                        "the audit chain is broken at \(failure); \(result.checked) events before it verify")
                    throw ExitCode(ExitStatus.failed.rawValue)
                }
                Console.out("the audit chain of \(result.checked) events is intact")
            }
        }
    }
}
