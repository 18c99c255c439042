import Foundation
import Hummingbird
import Metrics
import NIOCore
import NIOPosix
import Prometheus
import RotorCore

/// `--listen HOST:PORT`: `GET /healthz` and Prometheus `GET /metrics`.
enum OpsServer {
    /// Parses `HOST:PORT` (`[::1]:9090` for IPv6).
    static func address(_ text: String) throws(RotorError) -> (host: String, port: Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            throw RotorError(
                .invalidInput, "--listen takes HOST:PORT, like 127.0.0.1:9090, not \(UserText.quoted(text))")
        }
        let host = String(text[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        guard !host.isEmpty else { throw RotorError(.invalidInput, "--listen needs a host, like 127.0.0.1:9090") }
        return (host, port)
    }

    /// Binds `host:port` once and lets go, so that an address in use is a
    /// clear error before anything starts, not a failure inside a running
    /// service group.
    static func checkBindable(host: String, port: Int, option: String = "--listen address") async throws(RotorError) {
        do {
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: host, port: port).get()
            try await channel.close()
        } catch {
            let reason =
                (error as? IOError).map { String(cString: strerror($0.errnoCode)) }
                ?? String(String(describing: error).prefix(120))
            throw RotorError(
                .io,
                "cannot listen on \(UserText.shown(host)):\(port): \(reason); stop what holds it or pick another \(option)"
            )
        }
    }

    static func application(
        ledger: Ledger, scheduler: Scheduler, registry: PrometheusCollectorRegistry, host: String, port: Int
    ) -> some ApplicationProtocol {
        let router = Router()
        router.get("/healthz") { _, _ -> Response in
            let (healthy, body) = await health(ledger, scheduler: scheduler)
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            return Response(
                status: healthy ? .ok : .serviceUnavailable, headers: headers,
                body: ResponseBody(byteBuffer: ByteBuffer(string: body.canonical + "\n")))
        }
        router.get("/metrics") { _, _ -> Response in
            await updateGauges(ledger, registry: registry)
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: buffer)))
        }
        return Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "rotor"))
    }

    /// Healthy while the scheduler loop is alive and the database answers.
    /// Rotations in progress, failed or waiting for a person are not the
    /// daemon's ill health (an orchestrator restarting it would not help):
    /// they show in `rotor status` and in the metrics.
    static func health(_ ledger: Ledger, scheduler: Scheduler) async -> (Bool, JSONValue) {
        if let reason = scheduler.liveness(now: ledger.clock.now) {
            return (false, ["status": "unhealthy", "reason": .string(reason)])
        }
        do {
            _ = try await ledger.read { try $0.meta(.databaseID) }
        } catch {
            return (false, ["status": "unhealthy", "reason": .string("the database does not answer: \(error)")])
        }
        return (true, ["status": "ok"])
    }

    /// Per-app gauges, read from the database at scrape time.
    static func updateGauges(_ ledger: Ledger, registry: PrometheusCollectorRegistry) async {
        guard let statuses = try? await StatusReport.build(ledger: ledger) else { return }
        var failed = 0
        var lost = 0
        for status in statuses {
            let labels = [("app", status.app.name)]
            registry.makeGauge(descriptor: secretAge, labels: labels).set(Double(status.secretAge))
            registry.makeGauge(descriptor: nextDue, labels: labels).set(status.nextDue?.timeIntervalSince1970 ?? 0)
            registry.makeGauge(descriptor: pendingDeliveries, labels: labels).set(Double(status.pendingDeliveries))
            registry.makeGauge(descriptor: needsAction, labels: labels).set(
                Double(status.health == .needsAction ? 1 : 0))
            if status.health == .failed { failed += 1 }
            if status.lastRotation?.state == .lost { lost += 1 }
        }
        registry.makeGauge(descriptor: failedApps).set(Double(failed))
        registry.makeGauge(descriptor: lostApps).set(Double(lost))
    }

    static var secretAge: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "rotor", metricName: "secret_age", unitName: "seconds",
            helpText: "Age of each app's current pair.")
    }
    static var nextDue: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "rotor", metricName: "next_due", unitName: "timestamp_seconds",
            helpText: "When each app is next due (0: no schedule).")
    }
    static var pendingDeliveries: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "rotor", metricName: "pending", unitName: "deliveries",
            helpText: "Enabled targets that lack the current version.")
    }
    static var failedApps: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "rotor", metricName: "failed", unitName: "apps",
            helpText: "Apps whose latest rotation is failed (verification keeps failing).")
    }
    static var needsAction: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "rotor", metricName: "app_needs_action", unitName: "",
            helpText: "1 while the app needs a person (lost pair, changed outside Rotor, a clear refusal).")
    }
    static var lostApps: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "rotor", metricName: "lost", unitName: "apps",
            helpText: "Apps whose latest rotation is lost (operator action needed).")
    }
}
