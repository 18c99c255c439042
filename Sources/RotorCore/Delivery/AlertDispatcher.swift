import Foundation

/// Runs every alert hook when a rotation ends `failed` or `lost`, or a
/// delivery fails past its retry budget. The hooks get a JSON document on
/// stdin with `event`, `app`, `rotation_id`, `state`, `error`, `time`, and
/// never a secret. Failures of alert hooks are reported, not retried.
public struct AlertDispatcher: Sendable {
    public let ledger: Ledger
    public let spawner: any ProcessSpawner

    public init(ledger: Ledger, spawner: any ProcessSpawner) {
        self.ledger = ledger
        self.spawner = spawner
    }

    public struct Alert: Sendable {
        public var event: String
        public var app: String
        public var rotationID: Int64?
        public var state: String
        public var error: String?

        public init(event: String, app: String, rotationID: Int64?, state: String, error: String?) {
            self.event = event
            self.app = app
            self.rotationID = rotationID
            self.state = state
            self.error = error
        }
    }

    /// Runs every hook; returns how many failed.
    @discardableResult
    public func send(_ alert: Alert) async -> Int {
        guard let hooks = try? await ledger.read({ try $0.alerts() }), !hooks.isEmpty else { return 0 }
        let document: JSONValue = [
            "event": .string(alert.event), "app": .string(alert.app), "rotation_id": .optional(alert.rotationID),
            "state": .string(alert.state), "error": .optional(alert.error),
            "time": .string(RFC3339.format(ledger.clock.now)),
        ]
        var failures = 0
        for hook in hooks {
            var environment = HookRunner.baseEnvironment
            environment["ROTOR_EVENT"] = alert.event
            environment["ROTOR_APP"] = alert.app
            let result = try? await spawner.run(
                command: hook.command, stdin: Array((document.canonical + "\n").utf8), environment: environment,
                timeout: hook.timeout, mask: [])
            if result?.succeeded != true { failures += 1 }
        }
        return failures
    }
}
