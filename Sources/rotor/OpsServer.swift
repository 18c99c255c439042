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
    static func checkBindable(host: String, port: Int) async throws(RotorError) {
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
                "cannot listen on \(UserText.shown(host)):\(port): \(reason); stop what holds it or pick another --listen address"
            )
        }
    }

    static func application(
        ledger: Ledger, registry: PrometheusCollectorRegistry, host: String, port: Int
    ) -> some ApplicationProtocol {
        let router = Router()
        router.get("/healthz") { _, _ -> Response in
            let (healthy, body) = health(ledger)
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            return Response(
                status: healthy ? .ok : .serviceUnavailable, headers: headers,
                body: ResponseBody(byteBuffer: ByteBuffer(string: body.canonical + "\n")))
        }
        router.get("/metrics") { _, _ -> Response in
            updateGauges(ledger, registry: registry)
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

    /// Healthy when the store takes a write and no rotation is stuck (unknown
    /// outcome or lost, or open for over an hour).
    static func health(_ ledger: Ledger) -> (Bool, JSONValue) {
        do {
            try ledger.write { _ in }
        } catch {
            return (false, ["status": "unhealthy", "reason": .string("the database does not take writes: \(error)")])
        }
        do {
            let now = ledger.clock.now
            let stuck = try ledger.read { reader in
                try reader.latestRotations().values.filter { rotation in
                    rotation.state == .lost || rotation.state == .requesting
                        || (rotation.state.isUnresolved && now.timeIntervalSince(rotation.startedAt) > 3600)
                }
            }
            if !stuck.isEmpty {
                return (
                    false,
                    [
                        "status": "unhealthy", "reason": "rotations are stuck; see `rotor status`",
                        "rotations": .array(stuck.map { .int($0.id) }),
                    ]
                )
            }
        } catch {
            return (false, ["status": "unhealthy", "reason": .string("\(error)")])
        }
        return (true, ["status": "ok"])
    }

    /// Per-app gauges, read from the database at scrape time.
    static func updateGauges(_ ledger: Ledger, registry: PrometheusCollectorRegistry) {
        guard let statuses = try? StatusReport.build(ledger: ledger) else { return }
        var failed = 0
        var lost = 0
        for status in statuses {
            let labels = [("app", status.app.name)]
            registry.makeGauge(descriptor: secretAge, labels: labels).set(Double(status.secretAge))
            registry.makeGauge(descriptor: nextDue, labels: labels).set(status.nextDue?.timeIntervalSince1970 ?? 0)
            registry.makeGauge(descriptor: pendingDeliveries, labels: labels).set(Double(status.pendingDeliveries))
            if status.health == .failed { failed += 1 }
            if status.health == .lost { lost += 1 }
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
    static var lostApps: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "rotor", metricName: "lost", unitName: "apps",
            helpText: "Apps whose latest rotation is lost (operator action needed).")
    }
}
