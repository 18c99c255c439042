import Foundation

/// Where a new pair goes: a file, an exec hook or a webhook.
public enum TargetKind: Sendable, Equatable {
    case file(FileTarget)
    case exec(ExecTarget)
    case webhook(WebhookTarget)
}

/// A webhook (`rotor target add NAME --webhook URL`): the `json` document is
/// POSTed to the URL; any 2xx answer is delivered.
public struct WebhookTarget: Sendable, Equatable {
    /// https, or http to a loopback host.
    public var url: String
    /// Extra request headers, sealed with the master key (they may carry a
    /// receiver's token); nil without any. ``SealSlot/targetHeaders(targetID:)``.
    public var sealedHeaders: Data?
    /// The file holding the HMAC-SHA256 key of `X-Rotor-Signature`, read at
    /// each delivery; the key itself is never stored.
    public var secretFile: String?
    /// Seconds the whole request may take.
    public var timeout: TimeInterval

    public init(url: String, sealedHeaders: Data? = nil, secretFile: String? = nil, timeout: TimeInterval = 30) {
        self.url = url
        self.sealedHeaders = sealedHeaders
        self.secretFile = secretFile
        self.timeout = timeout
    }

    /// The URL without its path, query or credentials (`https://hooks.example.com/…`), for
    /// listings, audit events and the status page: a webhook URL often carries a token.
    public var shownURL: String {
        guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host
        else { return "(a URL that does not parse)" }
        let port = components.port.map { ":\($0)" } ?? ""
        let rest = (components.path.isEmpty || components.path == "/") && components.query == nil ? "" : "/…"
        return "\(scheme)://\(host)\(port)\(rest)"
    }
}

extension TargetKind {
    /// `file`, `exec` or `webhook`.
    public var name: String {
        switch self {
        case .file: "file"
        case .exec: "exec"
        case .webhook: "webhook"
        }
    }

    /// True when `other` would do what this target does: write the same
    /// file (whatever its format: two writers of one file fight), or run
    /// the same command.
    public func repeats(_ other: TargetKind) -> Bool {
        switch (self, other) {
        case (.file(let a), .file(let b)): a.path == b.path
        case (.exec(let a), .exec(let b)): a.command == b.command
        case (.webhook(let a), .webhook(let b)): a.url == b.url
        default: false
        }
    }
}

/// A file target (`rotor target add NAME --file PATH`).
public struct FileTarget: Sendable, Equatable {
    public enum Format: String, Sendable, CaseIterable {
        case env, json, raw
    }

    public var path: String
    public var format: Format
    /// Permission bits, default 0600.
    public var mode: Int
    /// Rewrite the existing file and keep its inode (bind mounts).
    public var inPlace: Bool
    /// Owner and group to give the file, when running as root.
    public var owner: String?
    public var group: String?
    /// A Mustache template whose rendering is the content, in place of `format` (``TargetTemplate``).
    public var template: String?

    public init(
        path: String, format: Format = .env, mode: Int = 0o600, inPlace: Bool = false, owner: String? = nil,
        group: String? = nil, template: String? = nil
    ) {
        self.path = path
        self.format = template == nil ? format : .raw
        self.mode = mode
        self.inPlace = inPlace
        self.owner = owner
        self.group = group
        self.template = template
    }
}

/// An exec hook (`rotor target add NAME --exec "COMMAND"`).
public struct ExecTarget: Sendable, Equatable {
    public var command: String
    /// Seconds before the hook's process group is stopped.
    public var timeout: TimeInterval
    /// Also pass ROTOR_CLIENT_ID and ROTOR_CLIENT_SECRET in the environment.
    public var passEnvironment: Bool

    public init(command: String, timeout: TimeInterval = 30, passEnvironment: Bool = false) {
        self.command = command
        self.timeout = timeout
        self.passEnvironment = passEnvironment
    }
}

/// A consumer check (`--check COMMAND [--check-timeout DURATION]`): after a
/// delivery, run until it exits 0 (the consumer proves it uses the new
/// pair) or its time is up.
public struct ConsumerCheck: Sendable, Equatable {
    public var command: String
    public var timeout: TimeInterval

    public init(command: String, timeout: TimeInterval = 300) {
        self.command = command
        self.timeout = timeout
    }
}

public struct TargetRecord: Sendable, Equatable {
    public var id: Int64
    public var appID: Int64
    public var kind: TargetKind
    public var enabled: Bool
    public var createdAt: Date
    public var check: ConsumerCheck?

    public init(
        id: Int64, appID: Int64, kind: TargetKind, enabled: Bool, createdAt: Date, check: ConsumerCheck? = nil
    ) {
        self.id = id
        self.appID = appID
        self.kind = kind
        self.enabled = enabled
        self.createdAt = createdAt
        self.check = check
    }

    /// A one-line description without any secret.
    public var summary: String {
        switch kind {
        case .file(let file):
            "file \(file.path) (\(file.template == nil ? file.format.rawValue : "template"), mode \(String(file.mode, radix: 8))\(file.inPlace ? ", in place" : ""))"
        case .exec(let exec):
            "exec \(exec.command) (timeout \(DurationText.format(Int64(exec.timeout)))\(exec.passEnvironment ? ", secrets in env" : ""))"
        case .webhook(let webhook):
            "webhook \(webhook.shownURL) (\(webhook.secretFile == nil ? "unsigned" : "signed")\(webhook.sealedHeaders == nil ? "" : ", headers"))"
        }
    }
}

/// The state of one version's delivery to one target.
public struct DeliveryRecord: Sendable, Equatable {
    public enum State: String, Sendable {
        case pending, succeeded, failed, superseded
    }

    public var targetID: Int64
    public var version: Int
    public var rotationID: Int64?
    public var state: State
    public var attempts: Int
    public var nextAttemptAt: Date?
    public var lastAttemptAt: Date?
    public var lastError: String?
    /// The hook's output, bounded, secrets masked.
    public var output: String?
    public var alerted: Bool
    /// When the target's consumer check passed for this version.
    public var confirmedAt: Date?
    /// Why the consumer check did not pass in its time.
    public var checkError: String?

    public init(
        targetID: Int64, version: Int, rotationID: Int64?, state: State, attempts: Int = 0, nextAttemptAt: Date? = nil,
        lastAttemptAt: Date? = nil, lastError: String? = nil, output: String? = nil, alerted: Bool = false,
        confirmedAt: Date? = nil, checkError: String? = nil
    ) {
        self.confirmedAt = confirmedAt
        self.checkError = checkError
        self.targetID = targetID
        self.version = version
        self.rotationID = rotationID
        self.state = state
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastAttemptAt = lastAttemptAt
        self.lastError = lastError
        self.output = output
        self.alerted = alerted
    }
}

/// An alert hook: run on the events it was added for (`--on`; by default
/// a rotation that ends `failed` or `lost`, an app that needs action, a
/// delivery or a check that failed).
public struct AlertRecord: Sendable, Equatable {
    public var id: Int64
    /// The command of an exec hook; for a webhook, its URL as listings show it.
    public var command: String
    public var timeout: TimeInterval
    public var events: Set<AlertEvent>
    /// Set for a webhook alert (`alert add --webhook URL`): the document is POSTed there.
    public var webhook: WebhookTarget?

    public init(
        id: Int64, command: String, timeout: TimeInterval, events: Set<AlertEvent> = AlertEvent.defaults,
        webhook: WebhookTarget? = nil
    ) {
        self.id = id
        self.command = webhook?.shownURL ?? command
        self.timeout = timeout
        self.events = events
        self.webhook = webhook
    }
}
