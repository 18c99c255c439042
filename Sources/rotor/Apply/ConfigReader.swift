import Foundation
import RotorCore
import Yams

/// Reads a config file (config.md) strictly: every key is known, every
/// value has its type, and each problem is one line naming the file, the
/// line and the key (`rotor.yaml:12: apps[0].targets[1].mode: …`).
final class ConfigReader {
    /// The file as messages show it.
    let file: String
    /// The line of each key and list item, by its place in the file (`apps[0].schedule.every`).
    private(set) var lines: [String: Int] = [:]

    private init(file: String) {
        self.file = file
    }

    /// Reads and checks `path`: a YAML 1.2 file (JSON is YAML).
    static func read(_ path: String) throws(RotorError) -> (ConfigFile, ConfigReader) {
        let reader = ConfigReader(file: path)
        let bytes: [UInt8]
        do {
            bytes = try Files.read(path, limit: 16 << 20)
        } catch {
            throw RotorError(.invalidInput, "-f: \(error)")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw RotorError(.invalidInput, "\(UserText.shown(path)) is not UTF-8 text")
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw RotorError(.invalidInput, reader.describe(error))
        }
        guard let root else {
            throw RotorError(.invalidInput, "\(UserText.shown(path)) is empty: a config file starts with `version: 1`")
        }
        do {
            return (try reader.config(root), reader)
        } catch {
            throw RotorError(.invalidInput, reader.describe(error))
        }
    }

    /// Runs `body`, turning a problem at a key into one line with its place.
    func located<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let problem as ConfigProblem {
            throw RotorError(.invalidInput, describe(problem))
        }
    }

    /// `FILE:LINE: KEY: message`, the line of the key or of the nearest enclosing one.
    func describe(_ problem: ConfigProblem) -> String {
        var place = problem.path
        while !place.isEmpty, lines[place] == nil {
            if let cut = place.lastIndex(where: { $0 == "." || $0 == "[" }) {
                place = String(place[..<cut])
            } else {
                place = ""
            }
        }
        let line = lines[place].map { ":\($0)" } ?? ""
        let key = problem.path.isEmpty ? "" : " \(problem.path):"
        return "\(file)\(line):\(key) \(problem.message)"
    }

    private func describe(_ error: any Error) -> String {
        if let problem = error as? ConfigProblem { return describe(problem) }
        switch error as? YamlError {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            return "\(file):\(mark.line):\(mark.column): not valid YAML: \(problem)"
        case .duplicatedKeysInMapping(let duplicates, _):
            return "\(file): the key \(duplicates.joined(separator: ", ")) is given twice in one mapping"
        default:
            let first = "\(error)".split(separator: "\n").first.map(String.init) ?? "\(error)"
            return "\(file): not valid YAML: \(first)"
        }
    }

    // MARK: The schema

    private func config(_ root: Node) throws(ConfigProblem) -> ConfigFile {
        let fields = try mapping(root, at: "", keys: ["version", "apps", "alerts"])
        guard let versionNode = fields["version"] else {
            throw ConfigProblem("version", "a config file starts with `version: 1`")
        }
        guard let version = Int(try scalar(versionNode, at: "version") ?? "") else {
            throw ConfigProblem("version", "version is a number: 1")
        }
        let apps = try sequence(fields["apps"], at: "apps").enumerated().map { index, node throws(ConfigProblem) in
            try app(node, at: "apps[\(index)]")
        }
        let alerts = try fields["alerts"].map { node throws(ConfigProblem) in
            try sequence(node, at: "alerts").enumerated().map { index, node throws(ConfigProblem) in
                try alert(node, at: "alerts[\(index)]")
            }
        }
        return ConfigFile(version: version, apps: apps, alerts: alerts)
    }

    private func app(_ node: Node, at path: String) throws(ConfigProblem) -> AppConfig {
        let fields = try mapping(node, at: path, keys: AppConfig.keys)
        func text(_ key: String) throws(ConfigProblem) -> String? { try scalar(fields[key], at: "\(path).\(key)") }
        guard let name = try text("name") else { throw ConfigProblem("\(path).name", "an app needs a name") }
        guard let applicationID = try text("application_id") else {
            throw ConfigProblem("\(path).application_id", "app \(name) needs its application_id")
        }
        var config = AppConfig(name: name, applicationID: applicationID)
        config.apiURL = try text("api_url")
        if let node = fields["schedule"], !isNull(node) {
            let schedule = try mapping(node, at: "\(path).schedule", keys: ScheduleConfig.keys)
            func field(_ key: String) throws(ConfigProblem) -> String? {
                try scalar(schedule[key], at: "\(path).schedule.\(key)")
            }
            config.schedule = ScheduleConfig(
                every: try field("every"), cron: try field("cron"), jitter: try field("jitter"),
                window: try field("window"), timezone: try field("timezone"))
        }
        config.identity = try text("identity")
        config.enabled = try bool(fields["enabled"], at: "\(path).enabled")
        config.initialCredentials = try text("initial_credentials")
        config.verify = try bool(fields["verify"], at: "\(path).verify")
        if let node = fields["targets"] {
            config.targets = try sequence(node, at: "\(path).targets").enumerated().map {
                index, node throws(ConfigProblem) in try target(node, at: "\(path).targets[\(index)]")
            }
        }
        return config
    }

    private func target(_ node: Node, at path: String) throws(ConfigProblem) -> TargetConfig {
        let fields = try mapping(node, at: path, keys: TargetConfig.keys)
        func text(_ key: String) throws(ConfigProblem) -> String? { try scalar(fields[key], at: "\(path).\(key)") }
        var config = TargetConfig()
        config.file = try text("file")
        config.format = try text("format")
        config.mode = try text("mode")
        config.template = try text("template")
        config.templateText = try text("template_text")
        config.inPlace = try bool(fields["in_place"], at: "\(path).in_place")
        config.owner = try text("owner")
        config.group = try text("group")
        config.exec = try text("exec")
        config.timeout = try text("timeout")
        config.env = try bool(fields["env"], at: "\(path).env")
        config.webhook = try text("webhook")
        config.secretFile = try text("secret_file")
        config.check = try text("check")
        config.checkTimeout = try text("check_timeout")
        return config
    }

    private func alert(_ node: Node, at path: String) throws(ConfigProblem) -> AlertConfig {
        let fields = try mapping(node, at: path, keys: AlertConfig.keys)
        func text(_ key: String) throws(ConfigProblem) -> String? { try scalar(fields[key], at: "\(path).\(key)") }
        var on: [String]?
        if let node = fields["on"], !isNull(node) {
            // A list, or one comma list as `alert add --on` takes it.
            on =
                if node.sequence != nil {
                    try sequence(node, at: "\(path).on").enumerated().map { index, item throws(ConfigProblem) in
                        try scalar(item, at: "\(path).on[\(index)]") ?? ""
                    }
                } else {
                    [try scalar(node, at: "\(path).on") ?? ""]
                }
        }
        return AlertConfig(
            exec: try text("exec"), webhook: try text("webhook"), secretFile: try text("secret_file"),
            timeout: try text("timeout"), on: on)
    }

    // MARK: Nodes

    /// A mapping's values by key: every key text, known and given once.
    private func mapping(_ node: Node, at path: String, keys: [String]) throws(ConfigProblem) -> [String: Node] {
        guard let mapping = node.mapping else {
            throw ConfigProblem(path, "expected a mapping of \(keys.joined(separator: ", "))\(found(node))")
        }
        var fields: [String: Node] = [:]
        for (key, value) in mapping {
            let name = key.scalar?.string ?? ""
            let place = path.isEmpty ? name : "\(path).\(name)"
            if let line = key.mark?.line { lines[place] = line }
            guard key.scalar != nil, keys.contains(name) else {
                if let line = key.mark?.line { lines[place] = line }
                throw ConfigProblem(
                    place, "unknown key \(UserText.quoted(name)); known here: \(keys.joined(separator: ", "))")
            }
            guard fields[name] == nil else { throw ConfigProblem(place, "\(name) is given twice") }
            fields[name] = value
        }
        return fields
    }

    private func sequence(_ node: Node?, at path: String) throws(ConfigProblem) -> [Node] {
        guard let node, !isNull(node) else { return [] }
        guard let sequence = node.sequence else { throw ConfigProblem(path, "expected a list\(found(node))") }
        let items = Array(sequence)
        for (index, item) in items.enumerated() {
            if let line = item.mark?.line { lines["\(path)[\(index)]"] = line }
        }
        return items
    }

    /// A scalar's text, as written (`mode: 0600` stays "0600"); nil when absent or null.
    private func scalar(_ node: Node?, at path: String) throws(ConfigProblem) -> String? {
        guard let node, !isNull(node) else { return nil }
        guard let scalar = node.scalar else { throw ConfigProblem(path, "expected a single value\(found(node))") }
        return scalar.string
    }

    private func bool(_ node: Node?, at path: String) throws(ConfigProblem) -> Bool? {
        guard let text = try scalar(node, at: path) else { return nil }
        switch text {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: throw ConfigProblem(path, "expected true or false, not \(UserText.quoted(text))")
        }
    }

    private func isNull(_ node: Node) -> Bool {
        guard let scalar = node.scalar, scalar.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    private func found(_ node: Node) -> String {
        if node.mapping != nil { return ", found a mapping" }
        if node.sequence != nil { return ", found a list" }
        return ", found a single value"
    }
}
