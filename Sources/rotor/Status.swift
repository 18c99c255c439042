import ArgumentParser
import Foundation
import RotorCore

extension ExitStatus {
    /// Which of two statuses says more: operator action > pending > failed > usage > success.
    var severity: Int {
        switch self {
        case .success: 0
        case .usage: 1
        case .failed: 2
        case .pending: 3
        case .operatorAction: 4
        }
    }
}

extension Rotor {
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "One line per app: health, the reason and its fix, last outcome, next due time.",
            discussion: """
                Health: ok, due, rotating, retrying (Rotor keeps trying), pending-delivery (a target lacks \
                the current pair), failed (past its retry budget), needs-action (a person must act: the \
                reason names the command), disabled. Exit status: 0 when every app is ok, due, rotating \
                or disabled; 3 when any is retrying, pending-delivery or failed; 4 when any needs action.
                """
        )

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await reporting(json: output.isJSON) {
                let ledger = try await global.openLedger()
                let statuses = try await StatusReport.build(ledger: ledger)
                let now = ledger.clock.now
                let nodes = try await ledger.read { try NodeStatus.read($0, now: now).nodes }
                if output.isJSON {
                    Console.jsonArray(statuses, \.json)
                } else {
                    var time = LocalTime()
                    Console.table(
                        ["APP", "HEALTH", "REASON", "LAST", "OUTCOME", "SECRET AGE", "NEXT DUE"],
                        statuses.map { status in
                            let zone = status.app.timezone
                            let last = status.lastRotation.map { $0.finishedAt ?? $0.startedAt }
                            return [
                                status.app.name, status.health.rawValue, status.reason ?? "-",
                                last.map { "\(time.format($0, zone: zone)) (\(StatusReport.ago($0, from: now)))" }
                                    ?? "never",
                                status.lastRotation?.state.rawValue ?? "-", DurationText.age(status.secretAge),
                                status.nextDue.map {
                                    "\(time.format($0, zone: zone)) (\(StatusReport.relative($0, from: now)))"
                                }
                                    ?? status.group.map { "with group \($0.name) (\($0.role))" }
                                    ?? AppText.noNextDue(status.app),
                            ]
                        })
                    // Instances sharing a PostgreSQL database (postgres.md): which is alive, what each holds.
                    // On SQLite the output stays one line per app.
                    if try global.location.isShared, !nodes.isEmpty {
                        Console.out("")
                        Console.table(
                            ["NODE", "STATE", "LAST SEEN", "HOLDS"],
                            nodes.map { node in
                                [
                                    node.name,
                                    node.record == nil ? "cli" : node.alive ? "running" : "gone",
                                    node.record.map { StatusReport.ago($0.seenAt, from: now) } ?? "-",
                                    node.holds.isEmpty ? "-" : node.holds.joined(separator: ", "),
                                ]
                            })
                    }
                }
                let worst = statuses.map(\.health.exitStatus).max { $0.severity < $1.severity } ?? .success
                if worst != .success { throw ExitCode(worst.rawValue) }
            }
        }
    }
}
