import Foundation

/// `rotor apply`: plans a config file against the database and carries the
/// plan out in one transaction, each change audited as its command would
/// audit it. It never rotates.
public struct ConfigApplier: Sendable {
    public let ledger: Ledger
    /// Checks new apps' first pairs; nil where no vendor client is available.
    public let checker: (any PairChecker)?

    public init(ledger: Ledger, checker: (any PairChecker)?) {
        self.ledger = ledger
        self.checker = checker
    }

    public func plan(_ desired: DesiredConfig, prune: Bool) async throws -> ConfigPlan {
        try await ledger.read { reader in
            try ConfigPlan.make(desired, try ConfigSnapshot.read(from: reader), prune: prune)
        }
    }

    /// Each new app's first pair from its `initial_credentials` file, by app name.
    public func firstPairs(of plan: ConfigPlan) throws -> [String: ClientPair] {
        var pairs: [String: ClientPair] = [:]
        for app in plan.newApps {
            pairs[app.name] = try InitialCredentials.read(
                app.initialCredentials ?? "", at: "\(app.path).initial_credentials", applicationID: app.applicationID)
        }
        return pairs
    }

    /// Checks each new app's first pair with a client-credentials grant,
    /// unless its app says `verify: false`.
    public func verify(_ pairs: [String: ClientPair], of plan: ConfigPlan) async throws {
        let registry = AppRegistry(ledger: ledger, checker: checker)
        for app in plan.newApps where app.verify {
            guard let pair = pairs[app.name] else { continue }
            try await registry.check(clientID: pair.clientID, secret: pair.secret, apiURL: app.apiURL)
        }
    }

    /// Carries out `plan`, made from `desired` with `prune`, in one
    /// transaction. When the database no longer gives the same plan (another
    /// process changed it since), nothing is changed.
    public func apply(_ desired: DesiredConfig, prune: Bool, plan: ConfigPlan, pairs: [String: ClientPair])
        async throws
    {
        let verified = Set(desired.apps.filter(\.verify).map(\.name))
        try await ledger.commit { tx in
            let now = try ConfigPlan.make(desired, try ConfigSnapshot.read(from: tx.store), prune: prune)
            guard now.changes == plan.changes else {
                throw RotorError(
                    .busy, "the database changed while the plan was made; run `rotor apply` again to see the new plan",
                    exit: .failed)
            }
            for step in now.steps {
                switch step {
                case .addApp(let app):
                    guard let pair = pairs[app.name] else {
                        throw RotorError(.invalidInput, "app \(app.name) is new and its first pair was not read")
                    }
                    try AppRegistry.insert(
                        AppSpec(
                            name: app.name, applicationID: app.applicationID, clientID: pair.clientID,
                            clientSecret: pair.secret, apiURL: app.apiURL, schedule: app.schedule, jitter: app.jitter,
                            window: app.window, timezone: app.timezone, identity: app.identity),
                        verified: verified.contains(app.name), in: tx)
                    if !app.enabled {
                        var changes = AppChanges()
                        changes.enabled = false
                        try AppRegistry.change(app.name, changes, verified: false, in: tx)
                    }
                case .changeApp(let name, let changes):
                    try AppRegistry.change(name, changes, verified: false, in: tx)
                case .removeApp(let name):
                    try AppRegistry.delete(name, in: tx)
                case .addTarget(let app, let target):
                    try TargetRegistry.insert(app: app, target.kind, headers: [], check: target.check, in: tx)
                case .changeTarget(let app, let target, let changes):
                    try TargetRegistry.update(app: app, target, changes: changes, in: tx)
                case .removeTarget(let app, let id):
                    try TargetRegistry.delete(app: app, targetID: id, in: tx)
                case .addAlert(let alert):
                    try TargetRegistry.insertAlert(
                        command: alert.command, timeout: alert.timeout, events: alert.events, webhook: alert.webhook,
                        in: tx)
                case .changeAlert(let alert, let changes):
                    try TargetRegistry.updateAlert(alert, changes: changes, in: tx)
                case .removeAlert(let id):
                    try TargetRegistry.deleteAlert(id: id, in: tx)
                }
            }
        }
    }
}

/// A new app's first pair, from a file in the `env` or `json` target
/// format (what a file target of another Rotor, or the vendor's portal
/// copied by hand, holds). Its content never appears in a message.
public enum InitialCredentials {
    public static func read(_ file: String, at path: String, applicationID: String) throws(ConfigProblem) -> ClientPair
    {
        var info = stat()
        guard stat(file, &info) == 0 else {
            throw ConfigProblem(path, "cannot read \(UserText.shown(file)): \(String(cString: strerror(errno)))")
        }
        if info.st_mode & 0o004 != 0 {
            throw ConfigProblem(
                path, "\(UserText.shown(file)) holds a secret and every user can read it; chmod 600 it first")
        }
        let bytes: [UInt8]
        do {
            bytes = try Files.read(file, limit: 65536)
        } catch {
            throw ConfigProblem(path, "\(error)")
        }
        let fields =
            bytes.first(where: { ![0x20, 0x09, 0x0a, 0x0d].contains($0) }) == UInt8(ascii: "{")
            ? try json(bytes, file: file, at: path) : env(bytes)
        if let id = fields["application_id"], id != applicationID {
            throw ConfigProblem(
                path, "\(UserText.shown(file)) is the pair of application \(id), not \(applicationID)")
        }
        guard let clientID = fields["client_id"], let secret = fields["client_secret"] else {
            throw ConfigProblem(
                path,
                "\(UserText.shown(file)) needs a client ID and secret: VITALERA_CLIENT_ID= and VITALERA_CLIENT_SECRET= lines, or a JSON object with client_id and client_secret"
            )
        }
        return ClientPair(
            clientID: try at(path) { () throws(RotorError) in
                try Validate.identifier(clientID, option: "the client ID in \(UserText.shown(file))")
            },
            secret: try at(path) { () throws(RotorError) in try Validate.secret(Array(secret.utf8), source: file) })
    }

    /// `KEY=value` lines (`export`, quotes, blank lines and `#` comments allowed).
    static func env(_ bytes: [UInt8]) -> [String: String] {
        let names = [
            "VITALERA_APPLICATION_ID": "application_id", "VITALERA_CLIENT_ID": "client_id",
            "VITALERA_CLIENT_SECRET": "client_secret",
        ]
        var fields: [String: String] = [:]
        for line in String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline) {
            var text = line.trimmingCharacters(in: .whitespaces)
            if text.hasPrefix("export ") { text = String(text.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
            guard !text.hasPrefix("#"), let equals = text.firstIndex(of: "="),
                let field = names[String(text[..<equals])]
            else { continue }
            var value = String(text[text.index(after: equals)...])
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
            }
            fields[field] = value
        }
        return fields
    }

    static func json(_ bytes: [UInt8], file: String, at path: String) throws(ConfigProblem) -> [String: String] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw ConfigProblem(path, "\(UserText.shown(file)) is not a JSON object")
        }
        return object.compactMapValues { $0 as? String }
    }
}
