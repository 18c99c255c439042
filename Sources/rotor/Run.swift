import ArgumentParser
import Foundation
import Logging
import Metrics
import Prometheus
import RotorCore
import ServiceLifecycle
import VitaleraClient

extension Rotor {
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
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
        @Option(help: "Rotations at once.") var concurrency = 4
        @Option(help: ArgumentHelp("Serve GET /healthz and GET /metrics here.", valueName: "host:port"))
        var listen: String?
        @Option(name: .customLong("log-format"), help: "Log line format.") var logFormat: LogFormat = .text
        @Option(
            name: .customLong("verify-timeout"),
            help: ArgumentHelp("How long verification of a new pair keeps trying.", valueName: "duration")
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
                try await withEngine(global, verifyTimeout: TimeInterval(timeout), actor: actor) { engine, delivery in
                    let scheduler = Scheduler(
                        engine: engine, delivery: delivery,
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
}
