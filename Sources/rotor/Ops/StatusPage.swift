import Foundation
import RotorCore

/// `GET /` of `--listen`: every app with its health, reason, last and next
/// rotation, each target's delivery state, and the latest audit events.
///
/// Plain HTML and CSS: it refreshes itself with a meta tag, needs no
/// JavaScript, and reflows to one column on a phone. It shows what
/// `rotor status`, `rotor target list` and `rotor audit` show, none of which
/// holds a secret; every text from the database is escaped.
enum StatusPage {
    /// Seconds between the page's own refreshes.
    static let refresh = 30
    /// Audit events shown at the foot of the page.
    static let eventCount = 20

    struct AppTargets: Sendable {
        var status: AppStatus
        var targets: [TargetListing]
    }

    static func render(ledger: Ledger) async throws -> String {
        let now = ledger.clock.now
        let statuses = try await StatusReport.build(ledger: ledger)
        let apps = try await ledger.read { reader in
            try statuses.map { status in
                AppTargets(status: status, targets: try TargetListing.all(of: status.app, in: reader))
            }
        }
        let events = try await AuditLog(ledger: ledger).events(AuditQuery(limit: eventCount))
        let nodes = try await ledger.read { try NodeStatus.read($0, now: now).nodes }
        return page(apps: apps, events: events, nodes: nodes, now: now)
    }

    static func page(apps: [AppTargets], events: [AuditEvent], nodes: [NodeStatus] = [], now: Date) -> String {
        let worst = apps.map(\.status.health.exitStatus).max { $0.severity < $1.severity } ?? .success
        let summary =
            apps.isEmpty
            ? "No app is registered."
            : "\(apps.count) app\(apps.count == 1 ? "" : "s"); "
                + AppStatus.Health.allCases.compactMap { health in
                    let count = apps.filter { $0.status.health == health }.count
                    return count == 0 ? nil : "\(count) \(health.rawValue)"
                }.joined(separator: ", ")
        var html = """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta http-equiv="refresh" content="\(refresh)">
            <title>\(worst == .success ? "OK" : "ATTENTION") · rotor status</title>
            <style>\(style)</style>
            </head>
            <body>
            <header><h1>rotor status</h1>
            <p id="summary" class="\(worst == .success ? "good" : "bad")">\(escape(summary))</p>
            <p class="meta">As of <time datetime="\(RFC3339.format(now))">\(RFC3339.format(now))</time> \
            · rotor \(escape(RotorVersion.string)) · refreshes every \(refresh) s</p></header>
            <main>
            <section><h2>Apps</h2>

            """
        if apps.isEmpty {
            html += "<p>Register one with <code>rotor app add</code>.</p>\n"
        }
        for app in apps.sorted(by: { order($0.status, $1.status) }) {
            html += appCard(app, now: now)
        }
        if !nodes.isEmpty {
            html += "</section>\n<section><h2>Nodes</h2>\n" + nodeTable(nodes, now: now)
        }
        html += "</section>\n<section><h2>Latest audit events</h2>\n"
        html += eventTable(events)
        html += "</section>\n</main>\n</body>\n</html>\n"
        return html
    }

    /// Worst health first, then by name.
    static func order(_ a: AppStatus, _ b: AppStatus) -> Bool {
        let (x, y) = (a.health.exitStatus.severity, b.health.exitStatus.severity)
        return x != y ? x > y : a.app.name < b.app.name
    }

    static func appCard(_ item: AppTargets, now: Date) -> String {
        let status = item.status
        let name = escape(status.app.name)
        var time = LocalTime()
        let zone = status.app.timezone
        let next =
            status.nextDue.map { "\(time.format($0, zone: zone)) (\(StatusReport.relative($0, from: now)))" }
            ?? AppText.noNextDue(status.app)
        let last =
            status.lastRotation.map { rotation in
                let at = rotation.finishedAt ?? rotation.startedAt
                return "\(rotation.state.rawValue), \(time.format(at, zone: zone)) (\(StatusReport.ago(at, from: now)))"
            } ?? "never"
        var html = """
            <article class="app" id="app-\(name)" data-health="\(status.health.rawValue)">
            <h3>\(name) <span class="health \(status.health.rawValue)">\(status.health.rawValue)</span></h3>

            """
        if let reason = status.reason {
            html += "<p class=\"reason\">\(escape(reason))</p>\n"
        }
        html += """
            <dl>
            <dt>Last rotation</dt><dd>\(escape(last))</dd>
            <dt>Next due</dt><dd>\(escape(next))</dd>
            <dt>Secret age</dt><dd>\(escape(DurationText.age(status.secretAge)))</dd>
            <dt>Schedule</dt><dd>\(escape(status.app.schedule.description))</dd>
            </dl>

            """
        if item.targets.isEmpty {
            html += "<p class=\"meta\">No target.</p>\n"
        } else {
            html += "<table class=\"targets\"><thead><tr><th>Target</th><th>Version</th><th>State</th>"
            html += "<th>Error</th></tr></thead><tbody>\n"
            for listing in item.targets {
                let (target, latest, state) = (listing.target, listing.latest, listing.state)
                html += "<tr id=\"target-\(target.id)\" data-state=\"\(escape(state))\">"
                html += "<td data-label=\"Target\">\(target.id): \(escape(target.summary))</td>"
                html += "<td data-label=\"Version\">\(listing.deliveredVersion.map { String($0) } ?? "-")</td>"
                html += "<td data-label=\"State\">\(escape(state))</td>"
                html +=
                    "<td data-label=\"Error\">\(escape(state == "delivered" ? "" : latest?.lastError ?? ""))</td></tr>\n"
            }
            html += "</tbody></table>\n"
        }
        return html + "</article>\n"
    }

    /// The instances sharing the database: alive or gone, last seen, what each holds.
    static func nodeTable(_ nodes: [NodeStatus], now: Date) -> String {
        var html = "<table class=\"nodes\"><thead><tr><th>Node</th><th>State</th><th>Last seen</th>"
        html += "<th>Holds</th></tr></thead><tbody>\n"
        for node in nodes {
            let state = node.record == nil ? "cli" : node.alive ? "running" : "gone"
            html += "<tr data-node=\"\(escape(node.name))\" data-state=\"\(state)\">"
            html += "<td data-label=\"Node\">\(escape(node.name))</td><td data-label=\"State\">\(state)</td>"
            html +=
                "<td data-label=\"Last seen\">\(escape(node.record.map { StatusReport.ago($0.seenAt, from: now) } ?? "-"))</td>"
            html += "<td data-label=\"Holds\">\(escape(node.holds.joined(separator: ", ")))</td></tr>\n"
        }
        return html + "</tbody></table>\n"
    }

    static func eventTable(_ events: [AuditEvent]) -> String {
        guard !events.isEmpty else { return "<p class=\"meta\">No event yet.</p>\n" }
        var html = "<table class=\"events\"><thead><tr><th>Time</th><th>Actor</th><th>Action</th>"
        html += "<th>Outcome</th><th>App</th></tr></thead><tbody>\n"
        for event in events {
            html +=
                "<tr><td data-label=\"Time\">\(escape(event.time))</td><td data-label=\"Actor\">\(escape(event.actor))</td>"
            html += "<td data-label=\"Action\">\(escape(event.action))</td>"
            html += "<td data-label=\"Outcome\">\(escape(event.outcome))</td>"
            html += "<td data-label=\"App\">\(escape(event.app ?? "-"))</td></tr>\n"
        }
        return html + "</tbody></table>\n"
    }

    /// Text for HTML content and attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case _ where scalar.value < 0x20 || (0x7f...0x9f).contains(scalar.value):
                out += "\u{FFFD}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static let style = """
        body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:72rem;padding:1rem;color:#1a1a1a}\
        h1{font-size:1.4rem;margin:0}h2{font-size:1.15rem;margin:1.5rem 0 .5rem}h3{font-size:1.05rem;margin:0 0 .4rem}\
        .meta{color:#555;font-size:.85rem}.good{color:#14632b}.bad{color:#a11}\
        .app{border:1px solid #ccc;border-radius:6px;padding:.7rem 1rem;margin:.7rem 0}\
        .health{font-size:.8rem;padding:.1rem .45rem;border-radius:4px;background:#e4e4e4;vertical-align:middle}\
        .health.ok,.health.due,.health.rotating{background:#d7f0dc;color:#14632b}\
        .health.retrying,.health.pending-delivery{background:#fff1c2;color:#6b4c00}\
        .health.failed,.health.needs-action{background:#f9d4d4;color:#8a1010}\
        .reason{margin:.2rem 0 .5rem;font-weight:600}\
        dl{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem;margin:.3rem 0}dt{color:#555}dd{margin:0}\
        table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.4rem 0}\
        th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #e2e2e2;vertical-align:top;\
        overflow-wrap:anywhere}\
        @media (max-width:40rem){table,thead,tbody,tr,th,td{display:block}thead{display:none}\
        tr{border-bottom:1px solid #ccc;padding:.3rem 0}td{border:0;padding:.05rem 0}\
        td:empty{display:none}td::before{content:attr(data-label) ": ";color:#555}}
        """
}
