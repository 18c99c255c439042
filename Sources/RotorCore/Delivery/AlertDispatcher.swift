import Foundation

/// Runs the alert hooks added for an event (`--on`; by default every event
/// but `completed`). A hook gets a JSON document on stdin with `event`,
/// `app`, `rotation_id`, `state`, `error`, `time`, `host`, `target` (when a
/// target is concerned), `message` (one sentence) and `severity` (`info`,
/// `warning`, `critical`), and `ROTOR_EVENT`, `ROTOR_APP` and
/// `ROTOR_SEVERITY` in its environment; never a secret. An alert that
/// cannot be sent is queued in the store and tried again by `rotor run`
/// with the delivery backoff, for a day at most (``retryWindow``).
public struct AlertDispatcher: Sendable {
    public let ledger: Ledger
    public let spawner: any ProcessSpawner
    /// Sends webhook alerts; without one they count as failed.
    public let webhooks: (any WebhookPoster)?

    public init(ledger: Ledger, spawner: any ProcessSpawner, webhooks: (any WebhookPoster)? = nil) {
        self.ledger = ledger
        self.spawner = spawner
        self.webhooks = webhooks
    }

    /// How long a queued alert is tried again before it is dropped (and logged).
    public static let retryWindow: TimeInterval = 86400
    /// The backoff of queued alerts: the delivery backoff.
    public static let backoff = DeliveryService.standardBackoff

    /// Posts a webhook alert, `tries` times a second and then two apart (a
    /// receiver that blinks still gets it at once); nil when it was
    /// delivered, or why not.
    func post(_ body: [UInt8], to webhook: WebhookTarget, tries: Int) async -> String? {
        guard let webhooks else { return "this process cannot send webhooks" }
        let headers: [(String, String)]
        do {
            headers = try WebhookRequest.standardHeaders(for: body, secretFile: webhook.secretFile)
        } catch {
            return error.message
        }
        var failure = "not sent"
        for attempt in 0..<tries {
            if attempt > 0 {
                try? await ledger.clock.sleep(until: ledger.clock.now.addingTimeInterval(Double(attempt)))
            }
            do {
                let status = try await webhooks.post(
                    url: webhook.url, headers: headers, body: body, timeout: webhook.timeout)
                if (200..<300).contains(status) { return nil }
                failure = "the webhook answered \(status)"
            } catch {
                failure = "the webhook did not answer"
            }
        }
        return failure
    }

    /// Sends one alert document to one hook; nil when it was sent, or why not.
    func attempt(
        _ hook: AlertRecord, document: String, event: String, app: String, severity: String, tries: Int
    ) async -> String? {
        let body = Array(document.utf8)
        if let webhook = hook.webhook { return await post(body, to: webhook, tries: tries) }
        var environment = HookRunner.baseEnvironment
        environment["ROTOR_EVENT"] = event
        environment["ROTOR_APP"] = app
        environment["ROTOR_SEVERITY"] = severity
        do {
            let result = try await spawner.run(
                command: hook.command, stdin: body, environment: environment, timeout: hook.timeout, mask: [])
            return result.failure
        } catch {
            return "the hook did not start"
        }
    }

    public struct Alert: Sendable {
        public var event: AlertEvent
        public var app: String
        public var rotationID: Int64?
        public var state: String
        public var error: String?
        /// One sentence for a person: what happened and what to do.
        public var message: String
        /// The target concerned, as `target list` describes it.
        public var target: String?

        public init(
            event: AlertEvent, app: String, rotationID: Int64?, state: String, error: String?, message: String,
            target: String? = nil
        ) {
            self.event = event
            self.app = app
            self.rotationID = rotationID
            self.state = state
            self.error = error
            self.message = message
            self.target = target
        }
    }

    /// This host's name, for the document's `host`.
    static let host = ProcessInfo.processInfo.hostName

    /// Runs every hook added for the alert's event; returns how many failed.
    @discardableResult
    public func send(_ alert: Alert) async -> Int {
        guard let hooks = try? await ledger.read({ try $0.alerts() }) else { return 0 }
        let chosen = hooks.filter { $0.events.contains(alert.event) }
        guard !chosen.isEmpty else { return 0 }
        let document: JSONValue = [
            "event": .string(alert.event.documentName), "app": .string(alert.app),
            "rotation_id": .optional(alert.rotationID), "state": .string(alert.state), "error": .optional(alert.error),
            "time": .string(RFC3339.format(ledger.clock.now)), "host": .string(Self.host),
            "target": .optional(alert.target), "message": .string(alert.message),
            "severity": .string(alert.event.severity),
        ]
        let text = document.canonical + "\n"
        var failures = 0
        for hook in chosen {
            guard
                let failure = await attempt(
                    hook, document: text, event: alert.event.documentName, app: alert.app,
                    severity: alert.event.severity, tries: 3)
            else { continue }
            failures += 1
            let now = ledger.clock.now
            let queued = QueuedAlert(
                alertID: hook.id, event: alert.event.documentName, app: alert.app, severity: alert.event.severity,
                document: text, attempts: 1,
                nextAttemptAt: now.addingTimeInterval(
                    Self.backoff.delay(afterAttempt: 0, retryAfter: nil, random: Double.random(in: 0..<1))),
                lastError: failure, createdAt: now)
            _ = try? await ledger.commit { tx in try tx.store.insertQueuedAlert(queued) }
        }
        return failures
    }

    /// What a pass over the queued alerts did.
    public struct RetryReport: Sendable {
        public var sent = 0
        public var failed = 0
        /// Alerts given up after ``retryWindow``: the caller logs them.
        public var dropped: [QueuedAlert] = []
    }

    /// Sends the queued alerts whose time has come again: a sent one leaves
    /// the queue, a failed one waits for its next backoff, one queued for
    /// longer than ``retryWindow`` is dropped. Each is claimed first (its
    /// next attempt moved past the hook's timeout), so two processes do not
    /// send it twice.
    public func retryQueued(at now: Date) async -> RetryReport {
        var report = RetryReport()
        guard
            let hooks = try? await ledger.read({ try $0.alerts() }),
            let due = try? await ledger.commit({ tx in
                let items = try tx.store.queuedAlerts(dueBy: now)
                for var item in items {
                    let timeout = hooks.first(where: { $0.id == item.alertID })?.timeout ?? 30
                    item.nextAttemptAt = tx.now.addingTimeInterval(timeout * 3 + 60)
                    try tx.store.updateQueuedAlert(item)
                }
                return items
            })
        else { return report }
        for var item in due {
            guard let hook = hooks.first(where: { $0.id == item.alertID }) else { continue }
            let failure = await attempt(
                hook, document: item.document, event: item.event, app: item.app, severity: item.severity, tries: 1)
            let finished = ledger.clock.now
            let expired = failure != nil && finished.timeIntervalSince(item.createdAt) >= Self.retryWindow
            if failure == nil {
                report.sent += 1
            } else if expired {
                report.dropped.append(item)
            } else {
                report.failed += 1
            }
            item.attempts += 1
            item.lastError = failure
            item.nextAttemptAt = finished.addingTimeInterval(
                Self.backoff.delay(afterAttempt: item.attempts - 1, retryAfter: nil, random: Double.random(in: 0..<1)))
            _ = try? await ledger.commit { [item] tx in
                if failure == nil || expired {
                    try tx.store.deleteQueuedAlert(id: item.id)
                } else {
                    try tx.store.updateQueuedAlert(item)
                }
            }
        }
        return report
    }
}
