import Foundation

/// Runs the alert hooks added for an event (`--on`; by default every event
/// but `completed`). A hook gets a JSON document on stdin with `event`,
/// `app`, `rotation_id`, `state`, `error`, `time`, `host`, `target` (when a
/// target is concerned), `message` (one sentence) and `severity` (`info`,
/// `warning`, `critical`), and `ROTOR_EVENT`, `ROTOR_APP` and
/// `ROTOR_SEVERITY` in its environment; never a secret. Failures of alert
/// hooks are reported, not retried.
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

    /// Tries a webhook alert three times, a second and then two apart: an
    /// alert is not stored for later, so a receiver that blinks still gets it.
    func post(_ body: [UInt8], to webhook: WebhookTarget) async -> Bool {
        guard let webhooks,
            let headers = try? WebhookRequest.standardHeaders(for: body, secretFile: webhook.secretFile)
        else { return false }
        for attempt in 0..<3 {
            if attempt > 0 {
                try? await ledger.clock.sleep(until: ledger.clock.now.addingTimeInterval(Double(attempt)))
            }
            let status = try? await webhooks.post(
                url: webhook.url, headers: headers, body: body, timeout: webhook.timeout)
            if let status, (200..<300).contains(status) { return true }
        }
        return false
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
        var failures = 0
        let body = Array((document.canonical + "\n").utf8)
        for hook in chosen {
            if let webhook = hook.webhook {
                if await !post(body, to: webhook) { failures += 1 }
                continue
            }
            var environment = HookRunner.baseEnvironment
            environment["ROTOR_EVENT"] = alert.event.documentName
            environment["ROTOR_APP"] = alert.app
            environment["ROTOR_SEVERITY"] = alert.event.severity
            let result = try? await spawner.run(
                command: hook.command, stdin: Array((document.canonical + "\n").utf8), environment: environment,
                timeout: hook.timeout, mask: [])
            if result?.succeeded != true { failures += 1 }
        }
        return failures
    }
}
