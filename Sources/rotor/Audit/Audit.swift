import ArgumentParser
import Foundation
import RotorCore

extension Rotor {
    struct Audit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "audit",
            abstract: "Query, verify, export and prune the tamper-evident audit log.",
            subcommands: [Query.self, Verify.self, Export.self, Prune.self],
            defaultSubcommand: Query.self)
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
