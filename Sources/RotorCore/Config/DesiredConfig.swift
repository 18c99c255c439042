import Foundation

/// What is wrong with a config file, at a key: `path` is the key's place
/// in the file (`apps[0].targets[1].mode`), which the reader of the file
/// turns into a line number.
public struct ConfigProblem: Error, Sendable, Equatable {
    public var path: String
    public var message: String

    public init(_ path: String, _ message: String) {
        self.path = path
        self.message = message
    }
}

/// A config file checked and in Rotor's own terms: what the database should
/// hold. Every omitted field is its default, so a file says all there is
/// about each app it names.
public struct DesiredConfig: Sendable {
    public var apps: [DesiredApp]
    public var alerts: [DesiredAlert]
}

public struct DesiredApp: Sendable {
    /// Where it is in the file (`apps[2]`).
    public var path: String
    public var name: String
    public var applicationID: String
    public var apiURL: String
    public var schedule: Schedule
    public var jitter: Int64
    public var window: TimeWindow?
    public var timezone: String
    public var identity: String?
    public var enabled: Bool
    /// The file a new app's first pair is read from (absolute).
    public var initialCredentials: String?
    public var verify: Bool
    public var targets: [DesiredTarget]
}

public struct DesiredTarget: Sendable {
    public var path: String
    public var kind: TargetKind
    public var check: ConsumerCheck?
}

public struct DesiredAlert: Sendable {
    public var path: String
    public var command: String
    public var timeout: TimeInterval
    public var events: Set<AlertEvent>
    public var webhook: WebhookTarget?

    /// The alert as it would be stored under `id`.
    func record(id: Int64) -> AlertRecord {
        AlertRecord(id: id, command: command, timeout: timeout, events: events, webhook: webhook)
    }
}

extension ConfigFile {
    /// Checks every value and resolves relative paths against `directory`
    /// (the config file's). Template files are read here: a target stores
    /// its template's text. `webhookRefusal` says why a webhook URL is
    /// refused (nil when it is fine).
    public func desired(
        relativeTo directory: String, webhookRefusal: (String) -> String?
    ) throws(ConfigProblem) -> DesiredConfig {
        guard version == 1 else {
            throw ConfigProblem("version", "this build reads version 1 files, not version \(version)")
        }
        var names: [String: String] = [:]
        var checked: [DesiredApp] = []
        for (index, app) in apps.enumerated() {
            let desired = try app.desired(
                at: "apps[\(index)]", relativeTo: directory, webhookRefusal: webhookRefusal)
            if let other = names[desired.name] {
                throw ConfigProblem("apps[\(index)].name", "app \(desired.name) is already at \(other)")
            }
            names[desired.name] = "apps[\(index)]"
            checked.append(desired)
        }
        var alerts: [DesiredAlert] = []
        for (index, alert) in (self.alerts ?? []).enumerated() {
            let path = "alerts[\(index)]"
            let desired = try alert.desired(at: path, relativeTo: directory, webhookRefusal: webhookRefusal)
            if let twin = alerts.first(where: {
                ($0.webhook?.url ?? $0.command) == (desired.webhook?.url ?? desired.command)
            }) {
                throw ConfigProblem(path, "this alert repeats \(twin.path)")
            }
            alerts.append(desired)
        }
        return DesiredConfig(apps: checked, alerts: alerts)
    }
}

/// Runs a check of core's and turns its error into a problem at `path`.
func at<T>(_ path: String, _ body: () throws(RotorError) -> T) throws(ConfigProblem) -> T {
    do {
        return try body()
    } catch {
        throw ConfigProblem(path, error.message)
    }
}

/// An absolute path: `text` as it is, or resolved against `directory`.
func resolve(_ text: String, at path: String, relativeTo directory: String) throws(ConfigProblem) -> String {
    guard !text.isEmpty, !text.contains("\0") else { throw ConfigProblem(path, "needs a path") }
    let url =
        text.hasPrefix("/") ? URL(fileURLWithPath: text) : URL(fileURLWithPath: directory).appendingPathComponent(text)
    return url.standardizedFileURL.path
}

/// A webhook's key file, resolved, that holds a usable key now.
func signingKeyFile(_ text: String, at path: String, relativeTo directory: String) throws(ConfigProblem) -> String {
    let file = try resolve(text, at: path, relativeTo: directory)
    _ = try at(path) { () throws(RotorError) in try WebhookRequest.signingKey(file) }
    return file
}

extension AppConfig {
    func desired(
        at path: String, relativeTo directory: String, webhookRefusal: (String) -> String?
    ) throws(ConfigProblem) -> DesiredApp {
        let name = try at("\(path).name") { () throws(RotorError) in try Validate.name(self.name) }
        let applicationID = try at("\(path).application_id") { () throws(RotorError) in
            try Validate.identifier(self.applicationID, option: "application_id")
        }
        let apiURL = try at("\(path).api_url") { () throws(RotorError) in
            try Validate.apiURL(self.apiURL ?? AppRegistry.defaultAPIURL)
        }
        var schedule = Schedule.none
        var jitter: Int64 = 0
        var window: TimeWindow?
        var timezone = "UTC"
        if let config = self.schedule {
            let base = "\(path).schedule"
            switch (config.every, config.cron) {
            case (let every?, nil):
                let seconds = try at("\(base).every") { () throws(RotorError) in
                    try DurationText.parse(every, option: "every")
                }
                guard seconds > 0 else { throw ConfigProblem("\(base).every", "every must be longer than 0s") }
                schedule = .every(seconds: seconds)
            case (nil, let cron?):
                schedule = .cron(try at("\(base).cron") { () throws(RotorError) in try CronExpression(parsing: cron) })
            case (nil, nil):
                throw ConfigProblem(base, "a schedule needs every or cron (leave schedule out to rotate only by hand)")
            case (_?, _?):
                throw ConfigProblem("\(base).cron", "give either every or cron, not both")
            }
            if let text = config.jitter {
                jitter = try at("\(base).jitter") { () throws(RotorError) in
                    try DurationText.parse(text, option: "jitter")
                }
            }
            if let text = config.window {
                window = try at("\(base).window") { () throws(RotorError) in try TimeWindow(parsing: text) }
            }
            if let text = config.timezone {
                timezone = try at("\(base).timezone") { () throws(RotorError) in try Validate.timezone(text) }
            }
        }
        let identity = try self.identity.map { text throws(ConfigProblem) in
            try at("\(path).identity") { () throws(RotorError) in try Validate.name(text, kind: "identity") }
        }
        let initial = try initialCredentials.map { text throws(ConfigProblem) in
            try resolve(text, at: "\(path).initial_credentials", relativeTo: directory)
        }
        var targets: [DesiredTarget] = []
        for (index, target) in (self.targets ?? []).enumerated() {
            let desired = try target.desired(
                at: "\(path).targets[\(index)]", relativeTo: directory, webhookRefusal: webhookRefusal)
            if let twin = targets.first(where: { $0.kind.repeats(desired.kind) }) {
                throw ConfigProblem(
                    desired.path,
                    "this target repeats \(twin.path) (one \(twin.kind.name) target per path, command or URL)")
            }
            targets.append(desired)
        }
        return DesiredApp(
            path: path, name: name, applicationID: applicationID, apiURL: apiURL, schedule: schedule, jitter: jitter,
            window: window, timezone: timezone, identity: identity, enabled: enabled ?? true,
            initialCredentials: initial, verify: verify ?? true, targets: targets)
    }
}

extension TargetConfig {
    func desired(
        at path: String, relativeTo directory: String, webhookRefusal: (String) -> String?
    ) throws(ConfigProblem) -> DesiredTarget {
        let kinds = [file.map { _ in "file" }, exec.map { _ in "exec" }, webhook.map { _ in "webhook" }].compactMap {
            $0
        }
        guard kinds.count == 1 else {
            throw ConfigProblem(
                path,
                "a target needs exactly one of file, exec and webhook, not \(kinds.isEmpty ? "none" : kinds.joined(separator: " and "))"
            )
        }
        let given: [(String, Bool)] = [
            ("format", format != nil), ("mode", mode != nil), ("template", template != nil),
            ("template_text", templateText != nil), ("in_place", inPlace != nil), ("owner", owner != nil),
            ("group", group != nil), ("timeout", timeout != nil), ("env", env != nil),
            ("secret_file", secretFile != nil),
        ]
        let allowed: Set<String> =
            switch kinds[0] {
            case "file": ["format", "mode", "template", "template_text", "in_place", "owner", "group"]
            case "exec": ["timeout", "env"]
            default: ["timeout", "secret_file"]
            }
        if let key = given.first(where: { $0.1 && !allowed.contains($0.0) })?.0 {
            throw ConfigProblem("\(path).\(key)", "\(key) does not go with a \(kinds[0]) target")
        }
        let kind: TargetKind
        if let file {
            let filePath = try resolve(file, at: "\(path).file", relativeTo: directory)
            if format != nil, template != nil || templateText != nil {
                throw ConfigProblem("\(path).format", "give format or a template, not both")
            }
            if template != nil, templateText != nil {
                throw ConfigProblem("\(path).template_text", "give template or template_text, not both")
            }
            let parsedFormat = try format.map { text throws(ConfigProblem) in
                guard let value = FileTarget.Format(rawValue: text) else {
                    throw ConfigProblem("\(path).format", "format takes env, json or raw, not \(UserText.quoted(text))")
                }
                return value
            }
            let parsedMode = try mode.map { text throws(ConfigProblem) in
                guard let value = Int(text, radix: 8), (0...0o777).contains(value), text.count <= 4 else {
                    throw ConfigProblem(
                        "\(path).mode",
                        "mode takes octal permission bits like \"0600\" or \"0640\", not \(UserText.quoted(text))")
                }
                return value
            }
            var text = templateText
            if let template {
                let templatePath = try resolve(template, at: "\(path).template", relativeTo: directory)
                text = try at("\(path).template") { () throws(RotorError) in try TargetTemplate.read(templatePath) }
            }
            if let text {
                try at(template == nil ? "\(path).template_text" : "\(path).template") { () throws(RotorError) in
                    try TargetTemplate.check(text)
                }
            }
            kind = .file(
                FileTarget(
                    path: filePath, format: parsedFormat ?? .env, mode: parsedMode ?? 0o600, inPlace: inPlace ?? false,
                    owner: owner, group: group, template: text))
        } else if let exec {
            guard !exec.trimmingCharacters(in: .whitespaces).isEmpty, !exec.contains("\0") else {
                throw ConfigProblem("\(path).exec", "exec needs a command")
            }
            kind = .exec(
                ExecTarget(command: exec, timeout: try timeoutSeconds(at: path), passEnvironment: env ?? false))
        } else {
            let url = webhook ?? ""
            if let reason = webhookRefusal(url) {
                throw ConfigProblem(
                    "\(path).webhook", "refusing webhook \(WebhookTarget(url: url).shownURL): \(reason)")
            }
            let keyFile = try secretFile.map { text throws(ConfigProblem) in
                try signingKeyFile(text, at: "\(path).secret_file", relativeTo: directory)
            }
            kind = .webhook(WebhookTarget(url: url, secretFile: keyFile, timeout: try timeoutSeconds(at: path)))
        }
        if checkTimeout != nil, check == nil {
            throw ConfigProblem("\(path).check_timeout", "check_timeout goes with check")
        }
        let consumerCheck = try check.map { command throws(ConfigProblem) in
            guard !command.trimmingCharacters(in: .whitespaces).isEmpty, !command.contains("\0") else {
                throw ConfigProblem("\(path).check", "check needs a command")
            }
            let seconds = try checkTimeout.map { text throws(ConfigProblem) in
                try at("\(path).check_timeout") { () throws(RotorError) in
                    try DurationText.timeout(text, option: "check_timeout")
                }
            }
            return ConsumerCheck(command: command, timeout: seconds ?? 300)
        }
        return DesiredTarget(path: path, kind: kind, check: consumerCheck)
    }

    private func timeoutSeconds(at path: String) throws(ConfigProblem) -> TimeInterval {
        guard let timeout else { return 30 }
        return try at("\(path).timeout") { () throws(RotorError) in try DurationText.timeout(timeout, option: "timeout")
        }
    }
}

extension AlertConfig {
    func desired(
        at path: String, relativeTo directory: String, webhookRefusal: (String) -> String?
    ) throws(ConfigProblem) -> DesiredAlert {
        guard (exec != nil) != (webhook != nil) else {
            throw ConfigProblem(path, "an alert needs exactly one of exec and webhook")
        }
        if secretFile != nil, webhook == nil {
            throw ConfigProblem("\(path).secret_file", "secret_file goes with webhook")
        }
        let seconds =
            try timeout.map { text throws(ConfigProblem) in
                try at("\(path).timeout") { () throws(RotorError) in try DurationText.timeout(text, option: "timeout") }
            } ?? 30
        let events =
            try on.map { names throws(ConfigProblem) in
                try at("\(path).on") { () throws(RotorError) in try AlertEvent.parse(names.joined(separator: ",")) }
            } ?? AlertEvent.defaults
        if let exec {
            guard !exec.trimmingCharacters(in: .whitespaces).isEmpty, !exec.contains("\0") else {
                throw ConfigProblem("\(path).exec", "exec needs a command")
            }
            return DesiredAlert(path: path, command: exec, timeout: seconds, events: events, webhook: nil)
        }
        let url = webhook ?? ""
        if let reason = webhookRefusal(url) {
            throw ConfigProblem("\(path).webhook", "refusing webhook \(WebhookTarget(url: url).shownURL): \(reason)")
        }
        let keyFile = try secretFile.map { text throws(ConfigProblem) in
            try signingKeyFile(text, at: "\(path).secret_file", relativeTo: directory)
        }
        return DesiredAlert(
            path: path, command: "", timeout: seconds, events: events,
            webhook: WebhookTarget(url: url, secretFile: keyFile, timeout: seconds))
    }
}
