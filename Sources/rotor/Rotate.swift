import ArgumentParser
import Foundation
import Logging
import Metrics
import Prometheus
import RotorCore
import ServiceLifecycle
import VitaleraClient

/// Builds the rotation engine for a command.
func withEngine<T>(
    _ global: GlobalOptions, verifyTimeout: TimeInterval = 60, actor: String = ProcessHardening.actor(),
    _ body: (RotationEngine) async throws -> T
) async throws -> T {
    let ledger = try global.openLedger(actor: actor)
    return try await withVendor { api in
        let delivery = DeliveryService(ledger: ledger)
        var engine = RotationEngine(
            ledger: ledger, api: api, databasePath: global.databasePath, deliverer: delivery, alerts: delivery.alerts)
        engine.verification = RetryPolicy(base: 1, cap: 10, deadline: verifyTimeout, maxAttempts: 1000)
        // A request cannot outlive its deadline; as much again covers the vendor's own processing and clock skew.
        engine.inFlightWindow = try 2 * vendorTimeout()
        return try await body(engine)
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
                "How long verification of the new pair keeps trying (default 60s).", valueName: "duration"))
        var verifyTimeout = "60s"

        func run() async throws {
            try await reporting {
                let timeout = try DurationText.parse(verifyTimeout, option: "--verify-timeout")
                if dryRun {
                    try await withEngine(global) { engine in
                        let report = try await engine.dryRun(name)
                        for check in report.checks {
                            Console.out("\(check.passed ? "ok  " : "FAIL") \(check.description)")
                        }
                        if !report.passed { throw ExitCode(ExitStatus.failed.rawValue) }
                    }
                    return
                }
                let outcome = try await withEngine(global, verifyTimeout: TimeInterval(timeout)) { engine in
                    try await engine.rotateByHand(name)
                }
                report(outcome)
                if outcome.exitStatus != .success { throw ExitCode(outcome.exitStatus.rawValue) }
            }
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The scheduler: finish or resolve unfinished rotations, rotate apps when due.",
            discussion: """
                It first finishes or resolves any rotation an earlier process left unfinished, then \
                rotates apps as they fall due and retries pending verifications and deliveries. \
                With --once: do all work that is due now, then exit (for cron and systemd timers); \
                the exit status is the worst of the rotations it handled. Without it: run until \
                SIGTERM or SIGINT, then stop at a safe point and exit 0 (a second signal exits at once).
                """)

        enum LogFormat: String, ExpressibleByArgument, CaseIterable {
            case text, json
        }

        @OptionGroup var global: GlobalOptions
        @Flag(help: "Do all work that is due now, then exit.") var once = false
        @Option(help: "Rotations at once (default 4).") var concurrency = 4
        @Option(help: ArgumentHelp("Serve GET /healthz and GET /metrics here.", valueName: "host:port"))
        var listen: String?
        @Option(name: .customLong("log-format"), help: "text or json (default text).") var logFormat: LogFormat = .text
        @Option(
            name: .customLong("verify-timeout"),
            help: ArgumentHelp("How long verification of a new pair keeps trying (default 60s).", valueName: "duration")
        )
        var verifyTimeout = "60s"

        func validate() throws {
            guard (1...256).contains(concurrency) else { throw ValidationError("--concurrency takes 1 to 256") }
        }

        func run() async throws {
            try await reporting {
                let timeout = try DurationText.parse(verifyTimeout, option: "--verify-timeout")
                if let listen, !once {
                    let (host, port) = try OpsServer.address(listen)
                    try await OpsServer.checkBindable(host: host, port: port)
                }
                let format = logFormat
                // With --once the outcomes are the output: one line each, no log lines beside them.
                let level: Logger.Level = once ? .critical : .info
                LoggingSystem.bootstrap { label in
                    var handler: any LogHandler
                    switch format {
                    case .json: handler = JSONLogHandler(label: label)
                    case .text: handler = StreamLogHandler.standardError(label: label)
                    }
                    handler.logLevel = level
                    return handler
                }
                let logger = Logger(label: "rotor")
                // The daemon's events carry the actor `scheduler`; `--once` run by a person carries theirs.
                let actor = once ? ProcessHardening.actor() : "scheduler"
                try await withEngine(global, verifyTimeout: TimeInterval(timeout), actor: actor) { engine in
                    let scheduler = Scheduler(
                        engine: engine,
                        delivery: engine.deliverer as? DeliveryService ?? DeliveryService(ledger: engine.ledger),
                        concurrency: concurrency, logger: logger)
                    if once {
                        let outcomes = try await scheduler.runOnce()
                        if outcomes.isEmpty {
                            Console.out("nothing to do")
                            return
                        }
                        for outcome in outcomes { report(outcome) }
                        let worst = outcomes.map(\.exitStatus).max { $0.severity < $1.severity } ?? .success
                        if worst != .success { throw ExitCode(worst.rawValue) }
                        return
                    }
                    var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
                        .init(service: SchedulerService(scheduler: scheduler))
                    ]
                    if let listen {
                        let (host, port) = try OpsServer.address(listen)
                        let registry = PrometheusCollectorRegistry()
                        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
                        services.append(
                            .init(
                                service: OpsServer.application(
                                    ledger: engine.ledger, scheduler: scheduler, registry: registry, host: host,
                                    port: port)))
                    }
                    let group = ServiceGroup(
                        configuration: ServiceGroupConfiguration(
                            services: services,
                            gracefulShutdownSignals: [.sigterm, .sigint],
                            logger: logger))
                    try await group.run()
                }
            }
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Rotations, newest first.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "Only this app.") var name: String?
        @Option(help: "At most this many rotations.") var limit = 50

        func validate() throws {
            guard limit > 0 else { throw ValidationError("--limit must be at least 1") }
        }

        func run() async throws {
            try await reporting {
                let entries = try RotationHistory(ledger: try global.openLedger()).list(app: name, limit: limit)
                if output.isJSON {
                    Console.jsonArray(entries, \.json)
                    return
                }
                Console.table(
                    ["ID", "APP", "TRIGGER", "STATE", "STARTED", "FINISHED", "ERROR"],
                    entries.map { entry in
                        let rotation = entry.rotation
                        return [
                            String(rotation.id), entry.app, rotation.trigger.rawValue, rotation.state.rawValue,
                            RFC3339.format(rotation.startedAt), rotation.finishedAt.map(RFC3339.format) ?? "-",
                            rotation.error ?? "",
                        ]
                    })
            }
        }
    }
}

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
            try await reporting {
                let ledger = try global.openLedger()
                let statuses = try StatusReport.build(ledger: ledger)
                let now = ledger.clock.now
                if output.isJSON {
                    Console.jsonArray(statuses, \.json)
                } else {
                    Console.table(
                        ["APP", "HEALTH", "REASON", "LAST", "SECRET AGE", "NEXT DUE"],
                        statuses.map { status in
                            [
                                status.app.name, status.health.rawValue, status.reason ?? "-",
                                AppText.lastRotation(status.lastRotation), DurationText.age(status.secretAge),
                                status.nextDue.map {
                                    "\(RFC3339.format($0)) (\(StatusReport.relative($0, from: now)))"
                                } ?? AppText.noNextDue(status.app),
                            ]
                        })
                }
                let worst = statuses.map(\.health.exitStatus).max { $0.severity < $1.severity } ?? .success
                if worst != .success { throw ExitCode(worst.rawValue) }
            }
        }
    }
}
