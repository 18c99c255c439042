import ArgumentParser
import Foundation
import Logging
import Metrics
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

        @OptionGroup var global: GlobalOptions
        @Flag(help: "Do all work that is due now, then exit.") var once = false
        @Option(help: "Rotations at once.") var concurrency = 4
        @Option(
            help: ArgumentHelp(
                "Serve the status page (GET /), GET /api/status, GET /metrics and GET /healthz here.",
                valueName: "host:port"))
        var listen: String?
        @Option(
            name: .customLong("listen-token-file"),
            help: ArgumentHelp(
                "A file holding a token that every --listen path but /healthz requires as Authorization: Bearer.",
                valueName: "path"))
        var listenTokenFile: String?
        @Option(
            name: .customLong("token-socket"),
            help: ArgumentHelp(
                "Serve apps' access tokens over HTTP on this Unix socket to local consumers (GET /v1/token/NAME; see app set --token-client).",
                valueName: "path"))
        var tokenSocket: String?
        @Option(
            name: .customLong("token-socket-mode"), help: ArgumentHelp("The socket's mode, octal.", valueName: "octal"))
        var tokenSocketMode = "0660"
        @Option(
            name: .customLong("token-socket-group"),
            help: ArgumentHelp("Give the socket to this group.", valueName: "group"))
        var tokenSocketGroup: String?
        @OptionGroup var logs: LogOptions
        @OptionGroup var output: OutputOptions
        @Option(
            name: .customLong("verify-timeout"),
            help: ArgumentHelp("How long verification of a new pair keeps trying.", valueName: "duration")
        )
        var verifyTimeout = "60s"

        func validate() throws {
            guard (1...256).contains(concurrency) else { throw ValidationError("--concurrency takes 1 to 256") }
        }

        func run() async throws {
            try await reporting(json: output.isJSON) {
                try global.applyNode()
                let timeout = try DurationText.parse(verifyTimeout, option: "--verify-timeout")
                var token: ListenToken?
                if let listen, !once {
                    let (host, port) = try OpsServer.address(listen)
                    token = try listenTokenFile.map { path throws(RotorError) in try ListenToken(file: path) }
                    try await OpsServer.checkBindable(host: host, port: port)
                    if token == nil, !Validate.isLoopback(host) {
                        Console.warning(
                            "--listen \(UserText.shown(listen)) is reachable from other hosts and the status page has no token; add --listen-token-file PATH"
                        )
                    }
                }
                if tokenSocket != nil, once {
                    throw RotorError(.invalidInput, "--token-socket serves tokens while `rotor run` runs; drop --once")
                }
                let socket = try tokenSocket.map { path throws(RotorError) in
                    (path, try TokenSocket.prepare(path: path, mode: tokenSocketMode, group: tokenSocketGroup))
                }
                // With --once the outcomes are the output, one line each: only warnings beside them.
                try logs.bootstrap(defaultLevel: global.verbose ? .debug : once ? .warning : .info)
                let logger = Logger(label: "rotor")
                // The daemon's events carry the actor `scheduler`, `scheduler@NODE` where instances may share
                // the database (PostgreSQL, or a node named); `--once` run by a person carries theirs.
                let shared = try global.nodeName != nil || global.location.isShared
                let actor = once ? ProcessHardening.actor() : shared ? "scheduler@\(LeaseOwner.node)" : "scheduler"
                try await withEngine(global, verifyTimeout: TimeInterval(timeout), actor: actor) { engine, delivery in
                    let progress = Progress("rotating due apps", enabled: once && isatty(STDERR_FILENO) == 1)
                    defer { progress.finish() }
                    let scheduler = Scheduler(
                        engine: engine, delivery: delivery, concurrency: concurrency, logger: logger,
                        logsOutcomes: !once, progress: progress.report)
                    if once {
                        let outcomes = try await scheduler.runOnce()
                        progress.finish()
                        var report = CommandReport(["outcomes": .array(outcomes.map { .object(JSONObject($0.fields)) })]
                        )
                        if outcomes.isEmpty { report.lines = ["nothing to do"] }
                        for outcome in outcomes {
                            let one = CommandReport(outcome)
                            report.lines += one.lines
                            report.errors += one.errors
                        }
                        report.exit = outcomes.map(\.exitStatus).max { $0.severity < $1.severity } ?? .success
                        try output.emit(report)
                        return
                    }
                    var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
                        .init(service: SchedulerService(scheduler: scheduler))
                    ]
                    if let listen {
                        let (host, port) = try OpsServer.address(listen)
                        let metrics = OpsMetrics()
                        MetricsSystem.bootstrap(metrics)
                        services.append(
                            .init(
                                service: ListeningService(
                                    server: OpsServer.application(
                                        ledger: engine.ledger, scheduler: scheduler, metrics: metrics, token: token,
                                        host: host, port: port),
                                    host: host, port: port)))
                    }
                    if let (path, settings) = socket {
                        let broker = TokenBroker(ledger: engine.ledger, vendor: engine.api)
                        services.append(
                            .init(
                                service: TokenSocket.application(
                                    broker: broker, path: path, mode: settings.mode, gid: settings.gid, logger: logger))
                        )
                        services.append(.init(service: TokenRenewalService(broker: broker)))
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
