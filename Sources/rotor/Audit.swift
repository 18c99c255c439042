import ArgumentParser
import Foundation
import RotorCore

extension Rotor {
    struct Audit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Query, verify, export and prune the tamper-evident audit log.",
            subcommands: [Query.self, Verify.self, Export.self, Prune.self],
            defaultSubcommand: Query.self)

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
            @Option(help: "At most this many events (default 100).") var limit = 100
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
                try await reporting {
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

        struct Verify: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
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

        struct Export: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
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
                    while true {
                        let batch = try await log.events(after: last, since: start)
                        if batch.isEmpty { break }
                        printer.print(batch)
                        last = batch.last!.id
                    }
                }
            }
        }

        struct Prune: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Remove the events before T, keeping a checkpoint so verification still passes.",
                discussion: "Only a chain that verifies is pruned. Export first if the events must be kept.")

            @OptionGroup var global: GlobalOptions
            @Option(help: ArgumentHelp("Remove events before T.", valueName: "T")) var before: String

            func run() async throws {
                try await reporting {
                    let ledger = try await global.openLedger()
                    let time = try AuditLog.time(before, option: "--before", now: ledger.clock.now)
                    let result = try await AuditLog(ledger: ledger).prune(before: time)
                    Console.out(
                        "removed \(result.removed) events before \(time); the chain now starts after event \(result.baseID)"
                    )
                }
            }
        }
    }
}

extension AuditOutcome: ExpressibleByArgument {}

/// Prints events in one of the audit formats, streaming where it can.
struct AuditPrinter {
    var format: Rotor.Audit.Query.Format
    var started = false
    var collected: [JSONValue] = []

    init(format: Rotor.Audit.Query.Format) {
        self.format = format
    }

    mutating func print(_ events: [AuditEvent]) {
        switch format {
        case .json:
            collected += events.map(\.json)
        case .jsonl:
            for event in events { Console.out(event.json.canonical) }
        case .csv:
            if !started { Console.out(AuditEvent.csvHeader) }
            for event in events { Console.out(event.csvLine) }
        case .table:
            let rows = events.map { event in
                [
                    String(event.id), event.time, event.actor, event.action, event.outcome, event.app ?? "-",
                    event.rotationID.map(String.init) ?? "-", event.detail,
                ]
            }
            if !started {
                Console.table(["ID", "TIME", "ACTOR", "ACTION", "OUTCOME", "APP", "ROTATION", "DETAIL"], rows)
            } else {
                for row in rows { Console.out(row.joined(separator: "  ")) }
            }
        }
        started = true
    }

    func finish() {
        if format == .json { Console.json(.array(collected)) }
    }
}
