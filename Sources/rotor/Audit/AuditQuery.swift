import ArgumentParser
import Foundation
import RotorCore

extension Rotor.Audit {
    struct Query: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "query",
            abstract: "Events, newest first (`rotor audit [filters]`).",
            discussion: """
                T is RFC 3339 (2026-11-29T10:00:00Z) or a duration ago (24h, 7d). Formats: \
                table, json (one array), jsonl (one object per line), csv. With --follow, \
                prints the newest events oldest first and then new ones as they are written.
                """)

        enum Format: String, ExpressibleByArgument, CaseIterable {
            case table, json, jsonl, csv
        }

        @OptionGroup var global: GlobalOptions
        @Option(help: "Only events of this app.") var app: String?
        @Option(help: "Only this action, e.g. rotation.failed.") var action: String?
        @Option(help: "success or failure.") var outcome: AuditOutcome?
        @Option(help: ArgumentHelp("Events at or after T.", valueName: "T")) var since: String?
        @Option(help: ArgumentHelp("Events before T.", valueName: "T")) var until: String?
        @Option(help: "At most this many events.") var limit = 100
        @Option(help: "table, json, jsonl or csv.") var format: Format = .table
        @Flag(help: "Same as --format json.") var json = false
        @Flag(help: "Keep printing new events as they are written, like tail -f.") var follow = false

        func validate() throws {
            guard limit > 0 else { throw ValidationError("--limit must be at least 1") }
            if let action, AuditAction(rawValue: action) == nil {
                throw ValidationError(
                    "unknown action \(UserText.quoted(action)); actions are \(AuditAction.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            if follow && (json || format == .json) {
                throw ValidationError("--follow prints a stream: use --format jsonl, csv or table")
            }
        }

        func run() async throws {
            try await reporting(json: json || format == .json || format == .jsonl) {
                let ledger = try await global.openLedger()
                let now = ledger.clock.now
                var query = AuditQuery(
                    app: app, action: action, outcome: outcome,
                    since: try since.map { text throws(RotorError) in
                        try AuditLog.time(text, option: "--since", now: now)
                    },
                    until: try until.map { text throws(RotorError) in
                        try AuditLog.time(text, option: "--until", now: now)
                    },
                    limit: limit)
                let log = AuditLog(ledger: ledger)
                let format = json ? .json : self.format
                var events = try await log.events(query)
                if follow { events.reverse() }
                var printer = AuditPrinter(format: format)
                printer.print(events)
                guard follow else {
                    printer.finish()
                    return
                }
                var last = try await ledger.read { try $0.auditHead()?.lastID } ?? 0
                query.limit = 1000
                query.ascending = true
                query.byID = true
                while !Task.isCancelled {
                    try await Task.sleep(for: .seconds(1))
                    query.afterID = last
                    let fresh = try await log.events(query)
                    printer.print(fresh)
                    last = fresh.last?.id ?? last
                }
            }
        }
    }
}
