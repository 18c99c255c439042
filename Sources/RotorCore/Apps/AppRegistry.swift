import Foundation

/// Checks a client ID and secret with the vendor (a client-credentials
/// grant) before Rotor stores them. Throws when the vendor rejects the pair
/// or cannot be asked.
public protocol PairChecker: Sendable {
    func check(clientID: String, secret: Secret, apiURL: String) async throws
}

/// What `rotor app add` registers.
public struct AppSpec: Sendable {
    public var name: String
    public var applicationID: String
    public var clientID: String
    public var clientSecret: Secret
    public var apiURL: String
    public var schedule: Schedule
    public var jitter: Int64
    public var window: TimeWindow?
    public var timezone: String
    public var identity: String?

    public init(
        name: String, applicationID: String, clientID: String, clientSecret: Secret,
        apiURL: String = AppRegistry.defaultAPIURL, schedule: Schedule = .none, jitter: Int64 = 0,
        window: TimeWindow? = nil, timezone: String = "UTC", identity: String? = nil
    ) {
        self.name = name
        self.applicationID = applicationID
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.apiURL = apiURL
        self.schedule = schedule
        self.jitter = jitter
        self.window = window
        self.timezone = timezone
        self.identity = identity
    }
}

/// What `rotor app set` changes; nil leaves a field alone.
public struct AppChanges: Sendable {
    public var schedule: Schedule?
    public var jitter: Int64?
    public var window: TimeWindow??
    public var timezone: String?
    public var apiURL: String?
    /// `.some(nil)` detaches the identity.
    public var identity: String??
    public var enabled: Bool?
    public var pair: ClientPair?
    /// Who may ask the token broker for the app's token; empty: nobody.
    public var tokenClients: [TokenClient]?

    public init() {}

    public var isEmpty: Bool {
        schedule == nil && jitter == nil && window == nil && timezone == nil && apiURL == nil && identity == nil
            && enabled == nil && pair == nil && tokenClients == nil
    }
}

/// The app registry: add, list, show, change and remove apps, and reveal a
/// secret, each with its audit event in the same transaction.
public struct AppRegistry: Sendable {
    public static let defaultAPIURL = "https://api.vitalera.io"

    public let ledger: Ledger
    /// Checks pairs before they are stored; nil where no vendor client is available.
    public let checker: (any PairChecker)?

    public init(ledger: Ledger, checker: (any PairChecker)?) {
        self.ledger = ledger
        self.checker = checker
    }

    /// Registers an app with its existing pair. Unless `verify` is false the
    /// pair must first pass a client-credentials grant. Never rotates.
    @discardableResult
    public func add(_ spec: AppSpec, verify: Bool) async throws -> AppRecord {
        _ = try Validate.name(spec.name)
        try await ledger.read { reader in
            if try reader.app(named: spec.name) != nil {
                throw RotorError(
                    .alreadyExists, "an app named \(spec.name) already exists; pick another name or use `rotor app set`"
                )
            }
            if let identity = spec.identity, try reader.identity(named: identity) == nil {
                throw RotorError(
                    .notFound, "no identity named \(UserText.shown(identity)); `rotor identity list` shows them")
            }
        }
        if verify {
            try await check(clientID: spec.clientID, secret: spec.clientSecret, apiURL: spec.apiURL)
        }
        return try await ledger.commit { tx in try AppRegistry.insert(spec, verified: verify, in: tx) }
    }

    /// Every app with its current pair's facts and latest rotation, by name.
    public func list() async throws -> [AppOverview] {
        try await ledger.read { reader in
            let credentials = try reader.currentCredentials()
            let rotations = try reader.latestRotations()
            let active = try reader.activeOccurrences()
            return try reader.apps().compactMap { app in
                guard let credential = credentials[app.id] else { return nil }
                return AppOverview(
                    app: app, credential: credential, lastRotation: rotations[app.id], active: active[app.id] ?? [])
            }
        }
    }

    /// One app, its identity and recent rotations.
    public func show(_ name: String, rotations limit: Int = 10) async throws -> AppDetail {
        try await ledger.read { reader in
            let app = try AppRegistry.find(name, in: reader)
            let credential = try AppRegistry.currentCredential(of: app, in: reader)
            let recent = try reader.rotations(appID: app.id, limit: limit)
            let active = try reader.activeOccurrences()[app.id] ?? []
            return AppDetail(
                overview: AppOverview(app: app, credential: credential, lastRotation: recent.first, active: active),
                identity: try app.identityID.flatMap { try reader.identity(id: $0)?.name },
                rotations: recent, tokenClients: try reader.tokenClients(appID: app.id))
        }
    }

    /// Applies `changes`. A new pair replaces the stored one only after it
    /// passes a client-credentials grant (unless `verify` is false).
    @discardableResult
    public func set(_ name: String, _ changes: AppChanges, verify: Bool) async throws -> AppRecord {
        guard !changes.isEmpty else {
            throw RotorError(.invalidInput, "nothing to change: give at least one option (see `rotor app set --help`)")
        }
        let before = try await ledger.read { try AppRegistry.find(name, in: $0) }
        if let pair = changes.pair, verify {
            try await check(clientID: pair.clientID, secret: pair.secret, apiURL: changes.apiURL ?? before.apiURL)
        }
        return try await ledger.commit { tx in try AppRegistry.change(name, changes, verified: verify, in: tx) }
    }

    /// Deletes the app and its stored secrets; its audit events stay.
    public func remove(_ name: String) async throws {
        try await ledger.commit { tx in try AppRegistry.delete(name, in: tx) }
    }

    /// The current pair in plain text, for manual recovery. Recorded as
    /// `secret.revealed` in the same transaction that reads it.
    public func reveal(_ name: String) async throws -> RevealedPair {
        try await ledger.commit { tx in
            let app = try AppRegistry.find(name, in: tx.store)
            let credential = try AppRegistry.currentCredential(of: app, in: tx.store)
            guard let sealed = credential.sealedSecret else {
                throw RotorError(.notFound, "the secret of \(name) version \(credential.version) was wiped")
            }
            let secret = try tx.keyring.open(sealed, for: .clientSecret(appID: app.id, version: credential.version))
            try tx.record(
                AuditDraft(
                    .secretRevealed, app: name,
                    detail: [
                        "version": .int(Int64(credential.version)), "fingerprint": .string(credential.fingerprint),
                        "client_id": .string(credential.clientID),
                    ]))
            return RevealedPair(
                app: name, applicationID: app.applicationID, clientID: credential.clientID, clientSecret: secret,
                version: credential.version, fingerprint: credential.fingerprint)
        }
    }

    /// Inserts the app and its first pair with `app.added`, inside a write.
    @discardableResult
    static func insert(_ spec: AppSpec, verified: Bool, in tx: LedgerTransaction) throws -> AppRecord {
        guard try tx.store.app(named: spec.name) == nil else {
            throw RotorError(
                .alreadyExists, "an app named \(spec.name) already exists; pick another name or use `rotor app set`"
            )
        }
        let identityID = try spec.identity.map { name in
            guard let identity = try tx.store.identity(named: name) else {
                throw RotorError(
                    .notFound, "no identity named \(UserText.shown(name)); `rotor identity list` shows them")
            }
            return identity.id
        }
        let id = try tx.store.insertApp(
            NewApp(
                name: spec.name, applicationID: spec.applicationID, apiURL: spec.apiURL, schedule: spec.schedule,
                jitter: spec.jitter, window: spec.window, timezone: spec.timezone, identityID: identityID),
            at: tx.now)
        guard var app = try tx.store.app(id: id) else { throw RotorError(.io, "the new app vanished") }
        let stored = try tx.storeNextVersion(
            ClientPair(clientID: spec.clientID, secret: spec.clientSecret), of: &app, source: .added,
            rotationID: nil)
        try tx.record(
            AuditDraft(
                .appAdded, app: spec.name,
                detail: [
                    "application_id": .string(spec.applicationID), "client_id": .string(spec.clientID),
                    "fingerprint": .string(stored.fingerprint), "version": .int(Int64(stored.version)),
                    "api_url": .string(spec.apiURL),
                    "schedule": .string(spec.schedule.description), "verified": .bool(verified),
                    "identity": .optional(spec.identity),
                ]))
        return app
    }

    /// Applies `changes` to the app with `app.updated`, inside a write; the
    /// app's planned occurrences are dropped so the next due time is computed afresh.
    @discardableResult
    static func change(_ name: String, _ changes: AppChanges, verified: Bool, in tx: LedgerTransaction) throws
        -> AppRecord
    {
        var app = try AppRegistry.find(name, in: tx.store)
        var detail: [String: JSONValue] = [:]
        func note(_ field: String, _ old: JSONValue, _ new: JSONValue) {
            if old != new { detail[field] = ["from": old, "to": new] }
        }
        if let schedule = changes.schedule {
            note("schedule", .string(app.schedule.description), .string(schedule.description))
            app.schedule = schedule
        }
        if let jitter = changes.jitter {
            note("jitter", .string(DurationText.format(app.jitter)), .string(DurationText.format(jitter)))
            app.jitter = jitter
        }
        if let window = changes.window {
            note("window", .optional(app.window?.description), .optional(window?.description))
            app.window = window
        }
        if let timezone = changes.timezone {
            note("timezone", .string(app.timezone), .string(timezone))
            app.timezone = timezone
        }
        if let url = changes.apiURL {
            note("api_url", .string(app.apiURL), .string(url))
            app.apiURL = url
        }
        if let identity = changes.identity {
            let oldName = try app.identityID.flatMap { try tx.store.identity(id: $0)?.name }
            if let identity {
                guard let record = try tx.store.identity(named: identity) else {
                    throw RotorError(
                        .notFound, "no identity named \(UserText.shown(identity)); `rotor identity list` shows them"
                    )
                }
                app.identityID = record.id
            } else {
                app.identityID = nil
            }
            note("identity", .optional(oldName), .optional(identity))
        }
        if let enabled = changes.enabled {
            note("enabled", .bool(app.enabled), .bool(enabled))
            app.enabled = enabled
        }
        if let clients = changes.tokenClients {
            let old = try tx.store.tokenClients(appID: app.id)
            let new = Set(clients.map(\.description)).sorted()
            note("token_clients", .array(old.map(JSONValue.string)), .array(new.map(JSONValue.string)))
            try tx.store.setTokenClients(appID: app.id, new)
        }
        if let pair = changes.pair {
            if let open = try tx.store.unresolvedRotation(appID: app.id) {
                throw RotorError(
                    .invalidInput,
                    "rotation \(open.id) of \(name) is still \(open.state.rawValue); let `rotor run --once` resolve it before replacing the pair"
                )
            }
            let old = try AppRegistry.currentCredential(of: app, in: tx.store)
            // A new pair clears the app's attention: scheduled rotation resumes.
            let stored = try tx.storeNextVersion(pair, of: &app, source: .set, rotationID: nil)
            detail["client_id"] = ["from": .string(old.clientID), "to": .string(pair.clientID)]
            detail["fingerprint"] = ["from": .string(old.fingerprint), "to": .string(stored.fingerprint)]
            detail["version"] = ["from": .int(Int64(old.version)), "to": .int(Int64(stored.version))]
            detail["verified"] = .bool(verified)
        }
        app.updatedAt = tx.now
        try tx.store.updateApp(app)
        // An edit replaces whatever was planned: the next due time is computed afresh.
        try tx.store.dropPlannedOccurrences(appID: app.id)
        try tx.record(AuditDraft(.appUpdated, app: name, detail: detail))
        return app
    }

    /// Deletes the app and its secrets with `app.removed`, inside a write;
    /// refused while a rotation of it is unresolved.
    static func delete(_ name: String, in tx: LedgerTransaction) throws {
        let app = try AppRegistry.find(name, in: tx.store)
        if let group = try tx.store.groups().first(where: { $0.members.contains(app.id) }) {
            throw RotorError(
                .invalidInput, "app \(name) is in group \(group.name); `rotor group remove \(group.name)` first")
        }
        if let open = try tx.store.unresolvedRotation(appID: app.id) {
            throw RotorError(
                .invalidInput,
                "rotation \(open.id) of \(name) is still \(open.state.rawValue): removing the app now could lose the only copy of its new pair; let `rotor run --once` resolve it first"
            )
        }
        let credential = try AppRegistry.currentCredential(of: app, in: tx.store)
        try tx.store.deleteApp(id: app.id)
        try tx.record(
            AuditDraft(
                .appRemoved, app: name,
                detail: [
                    "application_id": .string(app.applicationID), "client_id": .string(credential.clientID),
                    "fingerprint": .string(credential.fingerprint), "version": .int(Int64(app.currentVersion)),
                ]))
    }

    func check(clientID: String, secret: Secret, apiURL: String) async throws {
        guard let checker else {
            throw RotorError(
                .verificationUnavailable,
                "this build cannot check a pair with the vendor yet; pass --no-verify to store it unchecked")
        }
        try await checker.check(clientID: clientID, secret: secret, apiURL: apiURL)
    }

    static func find(_ name: String, in reader: any StoreReader) throws -> AppRecord {
        guard let app = try reader.app(named: name) else {
            throw RotorError(
                .notFound, "no app named \(UserText.shown(name)); `rotor app list` shows the registered apps")
        }
        return app
    }

    static func currentCredential(of app: AppRecord, in reader: any StoreReader) throws -> CredentialRecord {
        guard let credential = try reader.credential(appID: app.id, version: app.currentVersion) else {
            throw RotorError(
                .databaseInvalid, "app \(app.name) has no stored version \(app.currentVersion); restore from a backup")
        }
        return credential
    }
}

/// The current pair in plain text.
public struct RevealedPair: Sendable {
    public var app: String
    public var applicationID: String
    public var clientID: String
    public var clientSecret: Secret
    public var version: Int
    public var fingerprint: String
}
