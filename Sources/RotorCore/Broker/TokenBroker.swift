import CoreMetrics
import Foundation

/// The local token broker of `rotor run --token-socket` (consumers.md):
/// consumers on the host ask for an app's access token and never hold its
/// client secret. Tokens are obtained with the app's current pair
/// (client-credentials grant), kept in memory only, renewed at about 80 %
/// of their lifetime, and renewed at once when the app has a new pair, so a
/// consumer that asks after a rotation gets a token of the new pair. Who
/// may ask is decided from the socket peer's credentials.
public actor TokenBroker {
    /// A token handed out.
    public struct Issued: Sendable {
        public var token: Secret
        public var expiresAt: Date
    }

    /// Why no token was handed out: the text is for the consumer and never holds a secret.
    public enum Refusal: Error, Sendable, Equatable {
        /// No app of that name (404).
        case unknown(String)
        /// The peer may not ask for this app's token (403).
        case denied(String)
        /// The database or the vendor could not give one now (503).
        case unavailable(String)
    }

    struct Entry: Sendable {
        var token: AccessToken
        var issuedAt: Date
        /// The app's version whose pair obtained it.
        var version: Int
    }

    /// The share of a token's lifetime after which it is renewed.
    public static let renewAt = 0.8
    /// At most one `token.denied` event per app and user in this time.
    public static let deniedEventInterval: TimeInterval = 60

    public let ledger: Ledger
    public let vendor: any VendorAPI
    private var entries: [String: Entry] = [:]
    private var fetching: [String: Task<Entry, any Error>] = [:]
    private var lastDenied: [String: Date] = [:]

    public init(ledger: Ledger, vendor: any VendorAPI) {
        self.ledger = ledger
        self.vendor = vendor
    }

    /// The app's token for `peer`, from the cache while it is fresh and of
    /// the app's current pair, or a new one.
    public func token(for name: String, peer: PeerCredentials) async throws(Refusal) -> Issued {
        let source = try await current(name)
        let allowed = source.clients.compactMap { try? TokenClient(parsing: $0) }.contains { $0.allows(peer) }
        guard allowed else {
            Counter(label: "rotor_tokens_denied_total", dimensions: [("app", name)]).increment()
            await recordDenied(app: name, peer: peer)
            throw .denied(
                "uid \(peer.uid) may not ask for the token of \(name); `rotor app set \(name) --token-client uid:\(peer.uid)` allows it"
            )
        }
        if let entry = entries[name], entry.version == source.version, isFresh(entry) {
            Counter(label: "rotor_token_cache_hits_total").increment()
            return Issued(token: entry.token.token, expiresAt: entry.token.expiresAt)
        }
        let entry = try await fetch(name, source)
        return Issued(token: entry.token.token, expiresAt: entry.token.expiresAt)
    }

    /// Renews every cached token that is past ``renewAt`` of its lifetime
    /// or whose app has a new pair, and forgets those of removed apps: run
    /// every few seconds by `rotor run`, so a consumer rarely waits for the vendor.
    public func renewDue() async {
        for (name, entry) in entries {
            do {
                let source = try await current(name)
                if entry.version != source.version || !isFresh(entry) {
                    _ = try await fetch(name, source)
                }
            } catch .unknown {
                entries[name] = nil
            } catch {
                // Tried again at the next renewal, or when a consumer asks.
            }
        }
    }

    private func isFresh(_ entry: Entry) -> Bool {
        let now = ledger.clock.now
        let lifetime = entry.token.expiresAt.timeIntervalSince(entry.issuedAt)
        return now < entry.issuedAt.addingTimeInterval(lifetime * Self.renewAt)
            && entry.token.isFresh(at: now, margin: 1)
    }

    /// What a name stands for now: an app, or a group's current member.
    struct Source: Sendable {
        var app: AppRecord
        /// Who may ask (a group's: its current member's).
        var clients: [String]
        var credential: CredentialRecord
        /// Moves when the pair behind the name changes: the app's version, or the group's.
        var version: Int
    }

    /// The app named `name`, or the current member of the group named `name`.
    private func current(_ name: String) async throws(Refusal) -> Source {
        let found: Source?
        do {
            found = try await ledger.read { reader in
                if let app = try reader.app(named: name) {
                    guard let credential = try reader.credential(appID: app.id, version: app.currentVersion) else {
                        return nil
                    }
                    return Source(
                        app: app, clients: try reader.tokenClients(appID: app.id), credential: credential,
                        version: app.currentVersion)
                }
                guard let group = try reader.groups().first(where: { $0.name == name }) else { return nil }
                let state = try GroupState.read(group, in: reader)
                return Source(
                    app: state.current.app, clients: try reader.tokenClients(appID: state.current.app.id),
                    credential: state.current.credential, version: state.version)
            }
        } catch {
            throw .unavailable("the database cannot be read now")
        }
        guard let found else { throw .unknown("no app or group named \(UserText.shown(name))") }
        return found
    }

    /// A new token for the pair behind `name`; concurrent askers share one grant.
    private func fetch(_ name: String, _ source: Source) async throws(Refusal) -> Entry {
        let task: Task<Entry, any Error>
        if let running = fetching[name] {
            task = running
        } else {
            let (ledger, vendor) = (ledger, vendor)
            task = Task {
                let (app, credential) = (source.app, source.credential)
                guard let sealed = credential.sealedSecret else {
                    throw RotorError(.notFound, "the secret of \(app.name) version \(credential.version) was wiped")
                }
                let secret = try ledger.keyring.open(
                    sealed, for: .clientSecret(appID: app.id, version: credential.version))
                let issuedAt = ledger.clock.now
                let token = try await vendor.clientCredentialsGrant(
                    apiURL: app.apiURL, clientID: credential.clientID, secret: secret)
                return Entry(token: token, issuedAt: issuedAt, version: source.version)
            }
            fetching[name] = task
        }
        do {
            let entry = try await task.value
            if fetching[name] == task {
                fetching[name] = nil
                if (entries[name]?.version ?? 0) <= entry.version {
                    entries[name] = entry
                    Counter(label: "rotor_tokens_issued_total", dimensions: [("app", name)]).increment()
                }
            }
            return entry
        } catch {
            if fetching[name] == task { fetching[name] = nil }
            let reason = (error as? VendorError)?.message ?? (error as? RotorError)?.message ?? "no answer"
            throw .unavailable("the vendor did not issue a token for \(name): \(reason)")
        }
    }

    /// `token.denied`, at most once per ``deniedEventInterval`` for one app and user.
    private func recordDenied(app: String, peer: PeerCredentials) async {
        let key = "\(app)\u{0}\(peer.uid)"
        let now = ledger.clock.now
        if let last = lastDenied[key], now.timeIntervalSince(last) < Self.deniedEventInterval { return }
        lastDenied[key] = now
        _ = try? await ledger.commit(durable: false) { tx in
            try tx.record(
                AuditDraft(
                    .tokenDenied, outcome: .failure, app: app,
                    detail: [
                        "uid": .int(Int64(peer.uid)), "gid": .int(Int64(peer.gid)), "pid": .int(Int64(peer.pid)),
                    ]))
        }
    }
}
