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
/// count through swift-metrics. Families without an `app` label live in
/// swift-prometheus's registry. Families with one are kept here and written
/// by hand: the registry copies a family's whole table to add one series,
/// so registering 10,000 apps' gauges took the first scrape 12.7 s, and it
/// would grow with the square of the apps. The per-app gauges are read from
/// the database at each scrape and written straight out; the per-app
/// counters are kept in one table here, and an app's series go when the
/// app does.
final class OpsMetrics: MetricsFactory, Sendable {
    let registry = PrometheusCollectorRegistry()
    /// Counters with an `app` label: family → rendered labels → (app, value).
    private let appCounters = Mutex<[String: [String: (app: String, value: Int64)]]>([:])

    /// Help texts, by family.
    static let help: [String: String] = [
        "rotor_rotations_total":
            "Rotations that ended, by app and outcome (completed, aborted, failed, lost), and lost answers recovered (recovered).",
        "rotor_deliveries_total": "Delivery attempts, by app and outcome (succeeded, failed).",
        "rotor_rotation_duration_seconds": "Time from a rotation's start to its end.",
        "rotor_vendor_requests_total": "Requests to the vendor, by endpoint and HTTP status (error: no answer).",
        "rotor_build_info": "Always 1; the version of the running rotor.",
        "rotor_node_info": "Always 1; this process's node name (--node, default the host's name).",
        "rotor_node_last_seen_timestamp_seconds":
            "When each node sharing the database last recorded that it runs (every 30 s while it does).",
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
        "rotor_tokens_issued_total": "Access tokens the token broker obtained from the vendor, by app.",
        "rotor_token_cache_hits_total": "Token requests the token broker answered from its cache.",
        "rotor_tokens_denied_total": "Token requests refused because the peer may not ask for the app's token, by app.",
        "rotor_failed_apps": "Apps whose latest rotation is failed (verification keeps failing).",
        "rotor_lost_apps": "Apps whose latest rotation is lost (operator action needed).",
        "rotor_alerts_queued": "Alerts that could not be sent yet and wait to be tried again.",
    ]

    /// Rotation times from a tenth of a second to ten minutes.
    static let durationBuckets: [Duration] = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600].map {
        .milliseconds(Int64($0 * 1000))
    }

    init() {
        registry.makeGauge(descriptor: descriptor("rotor_build_info"), labels: [("version", RotorVersion.string)])
            .set(1.0)
        registry.makeGauge(descriptor: descriptor("rotor_node_info"), labels: [("node", LeaseOwner.node)]).set(1.0)
    }

    /// A family's name and help text.
    func descriptor(_ name: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: Self.helpText(name))
    }

    static func helpText(_ name: String) -> String {
        help[name] ?? name.replacingOccurrences(of: "_", with: " ")
    }

    // MARK: swift-metrics backend

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        guard let app = dimensions.first(where: { $0.0 == "app" })?.1 else {
            return registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
        }
        return AppCounter(metrics: self, family: label, labels: Self.labels(dimensions), app: app)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        registry.makeGauge(descriptor: descriptor(label), labels: dimensions)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        registry.makeDurationHistogram(descriptor: descriptor(label), labels: dimensions, buckets: Self.durationBuckets)
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

    /// A counter with an `app` label.
    final class AppCounter: CounterHandler, Sendable {
        let metrics: OpsMetrics
        let family: String
        let labels: String
        let app: String

        init(metrics: OpsMetrics, family: String, labels: String, app: String) {
            self.metrics = metrics
            self.family = family
            self.labels = labels
            self.app = app
        }

        func increment(by amount: Int64) {
            metrics.appCounters.withLock { families in
                families[family, default: [:]][labels, default: (app, 0)].value += amount
            }
        }

        func reset() {
            metrics.appCounters.withLock { families in families[family]?[labels] = nil }
        }
    }

    // MARK: exposition

    /// The whole text of `/metrics`: the registry's families, the per-app
    /// counters of apps that still exist, and the per-app gauges read now.
    /// When the database does not answer, the per-app gauges are left out.
    func exposition(_ ledger: Ledger) async -> [UInt8] {
        let statuses = try? await StatusReport.build(ledger: ledger)
        if let statuses {
            registry.makeGauge(descriptor: descriptor("rotor_failed_apps")).set(
                Double(statuses.filter { $0.health == .failed }.count))
            registry.makeGauge(descriptor: descriptor("rotor_lost_apps")).set(
                Double(statuses.filter { $0.lastRotation?.state == .lost }.count))
        }
        if let queued = try? await ledger.read({ try $0.queuedAlerts(dueBy: .distantFuture).count }) {
            registry.makeGauge(descriptor: descriptor("rotor_alerts_queued")).set(Double(queued))
        }
        var out: [UInt8] = []
        registry.emit(into: &out)
        var text = ""
        let names = statuses.map { Set($0.map(\.app.name)) }
        let counters = appCounters.withLock { families in
            // An app that is gone takes its series with it.
            if let names {
                for family in families.keys {
                    families[family] = families[family]?.filter { names.contains($0.value.app) }
                }
            }
            return families
        }
        for (family, series) in counters.sorted(by: { $0.key < $1.key }) where !series.isEmpty {
            Self.header(&text, family, type: "counter")
            for (labels, entry) in series.sorted(by: { $0.key < $1.key }) {
                text += "\(family)\(labels) \(entry.value)\n"
            }
        }
        if let statuses { Self.appGauges(&text, statuses) }
        if let nodes = try? await ledger.read({ try $0.nodes() }), !nodes.isEmpty {
            Self.header(&text, "rotor_node_last_seen_timestamp_seconds", type: "gauge")
            for node in nodes {
                text +=
                    "rotor_node_last_seen_timestamp_seconds{node=\"\(Self.escape(node.name))\"} \(Self.seconds(node.seenAt))\n"
            }
        }
        out.append(contentsOf: text.utf8)
        return out
    }

    static func appGauges(_ text: inout String, _ statuses: [AppStatus]) {
        func family(_ name: String, _ value: (AppStatus) -> String?) {
            header(&text, name, type: "gauge")
            for status in statuses {
                guard let value = value(status) else { continue }
                text += "\(name){app=\"\(escape(status.app.name))\"} \(value)\n"
            }
        }
        header(&text, "rotor_app_info", type: "gauge")
        for status in statuses {
            text +=
                "rotor_app_info{app=\"\(escape(status.app.name))\",application_id=\"\(escape(status.app.applicationID))\"} 1\n"
        }
        family("rotor_app_healthy") { $0.health.exitStatus == .success ? "1" : "0" }
        family("rotor_app_needs_action") { $0.health == .needsAction ? "1" : "0" }
        family("rotor_app_secret_age_seconds") { String($0.secretAge) }
        family("rotor_app_last_success_timestamp_seconds") { seconds($0.secretCreatedAt) }
        family("rotor_app_pending_deliveries") { String($0.pendingDeliveries) }
        family("rotor_app_next_rotation_timestamp_seconds") { $0.nextDue.map(seconds) }
    }

    static func header(_ text: inout String, _ name: String, type: String) {
        text += "# HELP \(name) \(helpText(name))\n# TYPE \(name) \(type)\n"
    }

    /// Seconds since the epoch, to the millisecond.
    static func seconds(_ date: Date) -> String {
        let millis = date.unixMilliseconds
        let whole = millis / 1000
        let fraction = abs(millis % 1000)
        return fraction == 0 ? String(whole) : "\(whole).\(String(fraction + 1000).dropFirst())"
    }

    /// `{a="x",b="y"}` in the order given.
    static func labels(_ dimensions: [(String, String)]) -> String {
        "{" + dimensions.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",") + "}"
    }

    /// A label value: backslash, double quote and newline escaped.
    static func escape(_ value: String) -> String {
        guard value.contains(where: { $0 == "\\" || $0 == "\"" || $0 == "\n" }) else { return value }
        return value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
