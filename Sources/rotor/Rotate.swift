import ArgumentParser
import Foundation
import RotorCore
import VitaleraClient

/// Builds the rotation engine for a command.
func withEngine<T>(
    _ global: GlobalOptions, verifyTimeout: TimeInterval = 60, actor: String = ProcessHardening.actor(),
    _ body: (RotationEngine, DeliveryService) async throws -> T
) async throws -> T {
    let ledger = try await global.openLedger(actor: actor)
    return try await withVendor { api in
        let delivery = DeliveryService(ledger: ledger, webhooks: HTTPWebhookPoster(http: api.http))
        var engine = RotationEngine(
            ledger: ledger, api: api, databasePath: try global.spillBase, deliverer: delivery, alerts: delivery.alerts)
        engine.verification = RetryPolicy(base: 1, cap: 10, deadline: verifyTimeout, maxAttempts: 1000)
        // A request cannot outlive its deadline; as much again covers the vendor's own processing and clock skew.
        engine.inFlightWindow = try 2 * vendorTimeout()
        return try await body(engine, delivery)
    }
}

extension RotationOutcome {
    /// The JSON fields of one outcome (`rotate --json`, `run --once --json`).
    var fields: [String: JSONValue] {
        [
            "app": .string(app), "rotation_id": .optional(rotationID), "state": .optional(state?.rawValue),
            "exit": .int(Int64(exitStatus.rawValue)), "message": .string(message),
            "next_attempt": .optional(nextAttemptAt.map(RFC3339.format)),
        ]
    }
}

extension CommandReport {
    /// One rotation's outcome: its message on stdout when it succeeded, on stderr otherwise.
    init(_ outcome: RotationOutcome) {
        self.init(outcome.fields)
        exit = outcome.exitStatus
        if exit == .success { lines = [outcome.message] } else { errors = [outcome.message] }
    }
}

extension Rotor {
    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate",
            abstract: "Rotate an app now, whatever its schedule.",
            discussion: """
                Authenticates, calls rotate_credentials, stores the new pair, verifies it with a \
                client-credentials grant and delivers it to every target. Exit 0 done; 1 not \
                rotated, the old pair still works; 3 rotated and stored but verification or \
                delivery pending; 4 the state at the vendor is unknown or the pair is lost.
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The app.") var name: String
        @Flag(
            name: .customLong("dry-run"), help: "Check everything that can be checked without rotating; change nothing."
        )
        var dryRun = false
        @Option(
            name: .customLong("verify-timeout"),
            help: ArgumentHelp(
                "How long verification of the new pair keeps trying.", valueName: "duration"))
        var verifyTimeout = "60s"
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await reporting(json: output.isJSON) {
                let timeout = try DurationText.parse(verifyTimeout, option: "--verify-timeout")
                if dryRun {
                    let checks = try await withEngine(global) { engine, _ in try await engine.dryRun(name) }
                    var report = CommandReport(
                        [
                            "app": .string(name), "dry_run": true,
                            "checks": .array(
                                checks.checks.map { ["check": .string($0.description), "passed": .bool($0.passed)] }),
                        ],
                        lines: checks.checks.map {
                            "\(Console.painted($0.passed ? "ok" : "FAIL"))\($0.passed ? "  " : "") \($0.description)"
                        })
                    report.exit = checks.passed ? .success : .failed
                    try output.emit(report)
                    return
                }
                let outcome = try await withEngine(global, verifyTimeout: TimeInterval(timeout)) { engine, _ in
                    try await engine.rotateByHand(name)
                }
                try output.emit(CommandReport(outcome))
            }
        }
    }
}
