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
        let delivery = DeliveryService(ledger: ledger)
        var engine = RotationEngine(
            ledger: ledger, api: api, databasePath: global.databasePath, deliverer: delivery, alerts: delivery.alerts)
        engine.verification = RetryPolicy(base: 1, cap: 10, deadline: verifyTimeout, maxAttempts: 1000)
        // A request cannot outlive its deadline; as much again covers the vendor's own processing and clock skew.
        engine.inFlightWindow = try 2 * vendorTimeout()
        return try await body(engine, delivery)
    }
}

/// Prints an outcome: a success on stdout, anything else as one line on stderr.
func report(_ outcome: RotationOutcome) {
    if outcome.exitStatus == .success {
        Console.out(outcome.message)
    } else {
        Console.error(outcome.message)
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

        func run() async throws {
            try await reporting {
                let timeout = try DurationText.parse(verifyTimeout, option: "--verify-timeout")
                if dryRun {
                    try await withEngine(global) { engine, _ in
                        let report = try await engine.dryRun(name)
                        for check in report.checks {
                            Console.out("\(check.passed ? "ok  " : "FAIL") \(check.description)")
                        }
                        if !report.passed { throw ExitCode(ExitStatus.failed.rawValue) }
                    }
                    return
                }
                let outcome = try await withEngine(global, verifyTimeout: TimeInterval(timeout)) { engine, _ in
                    try await engine.rotateByHand(name)
                }
                report(outcome)
                if outcome.exitStatus != .success { throw ExitCode(outcome.exitStatus.rawValue) }
            }
        }
    }
}
