import CoreMetrics
import Foundation
import Prometheus
import RotorCore
import Synchronization

/// What `GET /metrics` serves (cli.md, "Metrics and the status page"):
/// every family with `# HELP` and `# TYPE`, per-app series that go when
/// their app goes.
///
/// It is the process's metrics backend: the engine and the vendor client
/// count through swift-metrics, and this factory gives each family its help
/// text and remembers which series belong to which app. The per-app gauges
/// are read from the database at scrape time.
final class OpsMetrics: MetricsFactory, Sendable {
    let registry = PrometheusCollectorRegistry()
    /// Series that carry an `app` label, by app: dropped when the app is gone.
    private let series = Mutex<[String: [ObjectIdentifier: Series]]>([:])

    enum Series: Sendable {
        case counter(Prometheus.Counter)
        case gauge(Prometheus.Gauge)
        case histogram(Prometheus.DurationHistogram)
    }

    /// Help texts, by family.
    static let help: [String: String] = [
        "rotor_rotations_total":
            "Rotations that ended, by app and outcome (completed, aborted, failed, lost), and lost answers recovered (recovered).",
        "rotor_deliveries_total": "Delivery attempts, by app and outcome (succeeded, failed).",
        "rotor_rotation_duration_seconds": "Time from a rotation's start to its end.",
        "rotor_vendor_requests_total":
            "Requests to the vendor, by endpoint and HTTP status (error: no answer).",
        "rotor_build_info": "Always 1; the version of the running rotor.",
        "rotor_app_info": "Always 1; the app's vitalera application ID.",
        "rotor_app_healthy":
            "1 when the app is ok, due, rotating or disabled; 0 when it is retrying, pending delivery, failed or needs action.",
        "rotor_app_needs_action": "1 while the app needs a person (lost pair, changed outside Rotor, a clear refusal).",
        "rotor_app_secret_age_seconds": "Age of the app's current pair.",
        "rotor_app_last_success_timestamp_seconds":
            "When the app's current pair was stored (its last successful rotation, or app add/set).",
        "rotor_app_pending_deliveries": "Enabled targets that lack the current version.",
        "rotor_app_next_rotation_timestamp_seconds":
            "When the app's next scheduled rotation may start; absent without a schedule.",
        "rotor_failed_apps": "Apps whose latest rotation is failed (verification keeps failing).",
        "rotor_lost_apps": "Apps whose latest rotation is lost (operator action needed).",
    ]

    /// Rotation times from a tenth of a second to ten minutes.
    static let durationBuckets: [Duration] = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600].map {
        .milliseconds(Int64($0 * 1000))
    }

    init() {
        registry.makeGauge(descriptor: descriptor("rotor_build_info"), labels: [("version", RotorVersion.string)])
            .set(1.0)
    }

    /// A family's name and help text.
    func descriptor(_ name: String) -> MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: name, unitName: "", helpText: Self.help[name] ?? name.replacingOccurrences(of: "_", with: " "))
    }

    private func remember(_ item: Series, dimensions: [(String, String)]) {
        guard let app = dimensions.first(where: { $0.0 == "app" })?.1 else { return }
        let id: ObjectIdentifier
        switch item {
        case .counter(let counter): id = ObjectIdentifier(counter)
        case .gauge(let gauge): id = ObjectIdentifier(gauge)
        case .histogram(let histogram): id = ObjectIdentifier(histogram)
        }
        series.withLock { $0[app, default: [:]][id] = item }
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        let counter = registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
        remember(.counter(counter), dimensions: dimensions)
        return counter
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        let gauge = registry.makeGauge(descriptor: descriptor(label), labels: dimensions)
        remember(.gauge(gauge), dimensions: dimensions)
        return gauge
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        let histogram = registry.makeDurationHistogram(
            descriptor: descriptor(label), labels: dimensions, buckets: Self.durationBuckets)
        remember(.histogram(histogram), dimensions: dimensions)
        return histogram
    }

    func destroyCounter(_ handler: any CounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    func destroyRecorder(_ handler: any RecorderHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
    }

    func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? Prometheus.DurationHistogram { registry.unregisterDurationHistogram(histogram) }
    }

    /// The per-app gauges, read from the database now; the series of apps
    /// that are gone are dropped. Nothing changes when the database does not answer.
    func refresh(_ ledger: Ledger) async {
        guard let statuses = try? await StatusReport.build(ledger: ledger) else { return }
        var failed = 0
        var lost = 0
        for status in statuses {
            let app = status.app.name
            gauge("rotor_app_info", app: app, extra: [("application_id", status.app.applicationID)], 1)
            gauge("rotor_app_healthy", app: app, status.health.exitStatus == .success ? 1 : 0)
            gauge("rotor_app_needs_action", app: app, status.health == .needsAction ? 1 : 0)
            gauge("rotor_app_secret_age_seconds", app: app, Double(status.secretAge))
            gauge("rotor_app_last_success_timestamp_seconds", app: app, status.secretCreatedAt.timeIntervalSince1970)
            gauge("rotor_app_pending_deliveries", app: app, Double(status.pendingDeliveries))
            let next = registry.makeGauge(
                descriptor: descriptor("rotor_app_next_rotation_timestamp_seconds"), labels: [("app", app)])
            if let due = status.nextDue {
                next.set(due.timeIntervalSince1970)
                remember(.gauge(next), dimensions: [("app", app)])
            } else {
                registry.unregisterGauge(next)
            }
            if status.health == .failed { failed += 1 }
            if status.lastRotation?.state == .lost { lost += 1 }
        }
        registry.makeGauge(descriptor: descriptor("rotor_failed_apps")).set(Double(failed))
        registry.makeGauge(descriptor: descriptor("rotor_lost_apps")).set(Double(lost))
        drop(keeping: Set(statuses.map(\.app.name)))
    }

    private func gauge(_ name: String, app: String, extra: [(String, String)] = [], _ value: Double) {
        let gauge = registry.makeGauge(descriptor: descriptor(name), labels: [("app", app)] + extra)
        gauge.set(value)
        remember(.gauge(gauge), dimensions: [("app", app)])
    }

    /// Unregisters every series of an app not in `apps`.
    func drop(keeping apps: Set<String>) {
        let gone = series.withLock { all in
            let gone = all.filter { !apps.contains($0.key) }
            for app in gone.keys { all[app] = nil }
            return gone.values.flatMap(\.values)
        }
        for item in gone {
            switch item {
            case .counter(let counter): registry.unregisterCounter(counter)
            case .gauge(let gauge): registry.unregisterGauge(gauge)
            case .histogram(let histogram): registry.unregisterDurationHistogram(histogram)
            }
        }
    }
}
