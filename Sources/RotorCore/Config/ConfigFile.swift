import Foundation

/// The file of `rotor apply` and `rotor export` (config.md): apps with their
/// schedules and targets, and alerts. It never holds a secret: a new app's
/// first pair comes from a file it names (`initial_credentials`), a
/// webhook's signing key from a file (`secret_file`).
public struct ConfigFile: Codable, Sendable, Equatable {
    public var version: Int
    public var apps: [AppConfig]
    public var alerts: [AlertConfig]?

    public init(version: Int = 1, apps: [AppConfig], alerts: [AlertConfig]? = nil) {
        self.version = version
        self.apps = apps
        self.alerts = alerts
    }
}

public struct AppConfig: Codable, Sendable, Equatable {
    public var name: String
    public var applicationID: String
    public var apiURL: String?
    public var schedule: ScheduleConfig?
    public var identity: String?
    public var enabled: Bool?
    public var initialCredentials: String?
    public var verify: Bool?
    public var targets: [TargetConfig]?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name
        case applicationID = "application_id"
        case apiURL = "api_url"
        case schedule, identity, enabled
        case initialCredentials = "initial_credentials"
        case verify, targets
    }

    public init(
        name: String, applicationID: String, apiURL: String? = nil, schedule: ScheduleConfig? = nil,
        identity: String? = nil, enabled: Bool? = nil, initialCredentials: String? = nil, verify: Bool? = nil,
        targets: [TargetConfig]? = nil
    ) {
        self.name = name
        self.applicationID = applicationID
        self.apiURL = apiURL
        self.schedule = schedule
        self.identity = identity
        self.enabled = enabled
        self.initialCredentials = initialCredentials
        self.verify = verify
        self.targets = targets
    }
}

public struct ScheduleConfig: Codable, Sendable, Equatable {
    public var every: String?
    public var cron: String?
    public var jitter: String?
    public var window: String?
    public var timezone: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case every, cron, jitter, window, timezone
    }

    public init(
        every: String? = nil, cron: String? = nil, jitter: String? = nil, window: String? = nil,
        timezone: String? = nil
    ) {
        self.every = every
        self.cron = cron
        self.jitter = jitter
        self.window = window
        self.timezone = timezone
    }
}

/// One target: exactly one of `file`, `exec` and `webhook`, with the fields of its kind.
public struct TargetConfig: Codable, Sendable, Equatable {
    public var file: String?
    public var format: String?
    public var mode: String?
    /// A template file's path (read when applied).
    public var template: String?
    /// A template's text, as `export` writes a stored template.
    public var templateText: String?
    public var inPlace: Bool?
    public var owner: String?
    public var group: String?
    public var exec: String?
    public var timeout: String?
    public var env: Bool?
    public var webhook: String?
    public var secretFile: String?
    public var check: String?
    public var checkTimeout: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case file, format, mode, template
        case templateText = "template_text"
        case inPlace = "in_place"
        case owner, group
        case exec, timeout, env, webhook
        case secretFile = "secret_file"
        case check
        case checkTimeout = "check_timeout"
    }

    public init() {}
}

public struct AlertConfig: Codable, Sendable, Equatable {
    public var exec: String?
    public var webhook: String?
    public var secretFile: String?
    public var timeout: String?
    public var on: [String]?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case exec, webhook
        case secretFile = "secret_file"
        case timeout, on
    }

    public init(
        exec: String? = nil, webhook: String? = nil, secretFile: String? = nil, timeout: String? = nil,
        on: [String]? = nil
    ) {
        self.exec = exec
        self.webhook = webhook
        self.secretFile = secretFile
        self.timeout = timeout
        self.on = on
    }
}

extension ConfigFile {
    /// The configuration a database holds now, in the file's terms: defaults
    /// left out, durations as text, no secret. A webhook's headers are
    /// sealed secrets and stay in the database; a webhook's URL is written
    /// whole (the file is the operator's).
    public static func export(from reader: any StoreReader) throws -> ConfigFile {
        let identities = Dictionary(try reader.identities().map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        let apps = try reader.apps().map { app -> AppConfig in
            AppConfig(
                name: app.name, applicationID: app.applicationID,
                apiURL: app.apiURL == AppRegistry.defaultAPIURL ? nil : app.apiURL, schedule: schedule(app),
                identity: app.identityID.flatMap { identities[$0] }, enabled: app.enabled ? nil : false,
                targets: try reader.targets(appID: app.id).map(target).nilIfEmpty)
        }
        let alerts = try reader.alerts().map { alert -> AlertConfig in
            let on = alert.events == AlertEvent.defaults ? nil : alert.events.sorted().map(\.rawValue)
            let timeout = alert.timeout == 30 ? nil : DurationText.format(Int64(alert.timeout))
            if let webhook = alert.webhook {
                return AlertConfig(webhook: webhook.url, secretFile: webhook.secretFile, timeout: timeout, on: on)
            }
            return AlertConfig(exec: alert.command, timeout: timeout, on: on)
        }
        return ConfigFile(apps: apps, alerts: alerts.nilIfEmpty)
    }

    static func schedule(_ app: AppRecord) -> ScheduleConfig? {
        var config = ScheduleConfig()
        switch app.schedule {
        case .none, .damaged: break
        case .every(let seconds): config.every = DurationText.format(seconds)
        case .cron(let expression): config.cron = expression.source
        }
        if app.jitter > 0 { config.jitter = DurationText.format(app.jitter) }
        config.window = app.window?.description
        if app.timezone != "UTC" { config.timezone = app.timezone }
        return config == ScheduleConfig() ? nil : config
    }

    static func target(_ record: TargetRecord) -> TargetConfig {
        var config = TargetConfig()
        switch record.kind {
        case .file(let file):
            config.file = file.path
            if let template = file.template {
                config.templateText = template
            } else if file.format != .env {
                config.format = file.format.rawValue
            }
            if file.mode != 0o600 { config.mode = "0" + String(file.mode, radix: 8) }
            if file.inPlace { config.inPlace = true }
            config.owner = file.owner
            config.group = file.group
        case .exec(let exec):
            config.exec = exec.command
            if exec.timeout != 30 { config.timeout = DurationText.format(Int64(exec.timeout)) }
            if exec.passEnvironment { config.env = true }
        case .webhook(let webhook):
            config.webhook = webhook.url
            config.secretFile = webhook.secretFile
            if webhook.timeout != 30 { config.timeout = DurationText.format(Int64(webhook.timeout)) }
        }
        if let check = record.check {
            config.check = check.command
            if check.timeout != 300 { config.checkTimeout = DurationText.format(Int64(check.timeout)) }
        }
        return config
    }
}

extension AppConfig {
    /// The keys an app may have in the file.
    public static var keys: [String] { CodingKeys.allCases.map(\.rawValue) }
}

extension ScheduleConfig {
    public static var keys: [String] { CodingKeys.allCases.map(\.rawValue) }
}

extension TargetConfig {
    public static var keys: [String] { CodingKeys.allCases.map(\.rawValue) }
}

extension AlertConfig {
    public static var keys: [String] { CodingKeys.allCases.map(\.rawValue) }
}

extension Array {
    /// nil for an empty array, so that an exported file leaves the key out.
    var nilIfEmpty: [Element]? { isEmpty ? nil : self }
}
