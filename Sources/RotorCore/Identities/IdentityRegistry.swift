import Foundation

/// vitalera users of the organization (password grant) whose tokens can
/// rotate any of its applications: add, list, remove, and a current access
/// token on demand.
public struct IdentityRegistry: Sendable {
    public let ledger: Ledger
    public let api: (any VendorAPI)?

    public init(ledger: Ledger, api: (any VendorAPI)?) {
        self.ledger = ledger
        self.api = api
    }

    /// Checks the username and password with a password grant, then stores
    /// the identity with its password and tokens sealed.
    @discardableResult
    public func add(name: String, username: String, password: Secret, apiURL: String) async throws -> IdentitySummary {
        _ = try Validate.name(name, kind: "identity")
        try await ledger.read { reader in
            if try reader.identity(named: name) != nil {
                throw RotorError(.alreadyExists, "an identity named \(UserText.shown(name)) already exists")
            }
        }
        let tokens = try await grant(username: username, password: password, apiURL: apiURL)
        return try await ledger.commit { tx in
            guard try tx.store.identity(named: name) == nil else {
                throw RotorError(.alreadyExists, "an identity named \(UserText.shown(name)) already exists")
            }
            let id = try tx.store.insertIdentity(name: name, username: username, apiURL: apiURL, at: tx.now)
            try tx.store.updateIdentitySecrets(
                id: id, try IdentityRegistry.seal(password: password, tokens: tokens, id: id, keyring: tx.keyring),
                at: tx.now)
            try tx.record(
                AuditDraft(
                    .identityAdded,
                    detail: ["identity": .string(name), "username": .string(username), "api_url": .string(apiURL)]))
            return IdentitySummary(id: id, name: name, username: username, apiURL: apiURL)
        }
    }

    public func list() async throws -> [IdentitySummary] {
        try await ledger.read { try $0.identities() }
    }

    /// Deletes an identity that no app uses.
    public func remove(_ name: String) async throws {
        try await ledger.commit { tx in
            guard let identity = try tx.store.identity(named: name) else {
                throw RotorError(
                    .notFound, "no identity named \(UserText.shown(name)); `rotor identity list` shows them")
            }
            let users = try tx.store.apps().filter { $0.identityID == identity.id }.map(\.name)
            guard users.isEmpty else {
                throw RotorError(
                    .invalidInput,
                    "identity \(name) is used by \(users.joined(separator: ", ")); detach it first with `rotor app set NAME --no-identity`"
                )
            }
            try tx.store.deleteIdentity(id: identity.id)
            try tx.record(
                AuditDraft(
                    .identityRemoved, detail: ["identity": .string(name), "username": .string(identity.username)]))
        }
    }

    /// A current access token for the identity: the stored one while it is
    /// fresh, else one from the refresh endpoint, else a new password grant.
    /// New tokens are stored sealed.
    public func accessToken(identityID: Int64) async throws -> Secret {
        let api = try requireAPI()
        let (identity, secrets) = try await ledger.read { reader in
            guard let identity = try reader.identity(id: identityID),
                let secrets = try reader.identitySecrets(id: identityID)
            else { throw RotorError(.notFound, "identity \(identityID) no longer exists") }
            return (identity, secrets)
        }
        let keyring = ledger.keyring
        let now = ledger.clock.now
        let access = try secrets.accessToken.map {
            try keyring.open($0, for: .identity(id: identityID, field: .accessToken))
        }
        if let access, let expiry = secrets.accessExpiresAt, expiry.timeIntervalSince(now) > 60 {
            return access
        }
        var tokens: UserTokens?
        if let access, let sealed = secrets.refreshToken {
            let refresh = try keyring.open(sealed, for: .identity(id: identityID, field: .refreshToken))
            do {
                tokens = try await api.refresh(apiURL: identity.apiURL, accessToken: access, refreshToken: refresh)
            } catch  where error.isTransient {
                throw RotorError(.vendorUnavailable, "could not renew the token of identity \(identity.name): \(error)")
            } catch {
                tokens = nil  // The refresh token is spent or refused: fall back to the password.
            }
        }
        if tokens == nil {
            let password = try keyring.open(secrets.password, for: .identity(id: identityID, field: .password))
            tokens = try await grant(username: identity.username, password: password, apiURL: identity.apiURL)
        }
        let fresh = tokens!
        try await ledger.commit { tx in
            guard var stored = try tx.store.identitySecrets(id: identityID) else { return }
            stored.accessToken = try tx.keyring.seal(
                fresh.access.token, for: .identity(id: identityID, field: .accessToken))
            stored.accessExpiresAt = fresh.access.expiresAt
            stored.refreshToken = try fresh.refreshToken.map {
                try tx.keyring.seal($0, for: .identity(id: identityID, field: .refreshToken))
            }
            try tx.store.updateIdentitySecrets(id: identityID, stored, at: tx.now)
        }
        return fresh.access.token
    }

    private func grant(username: String, password: Secret, apiURL: String) async throws -> UserTokens {
        let api = try requireAPI()
        do {
            return try await api.passwordGrant(apiURL: apiURL, username: username, password: password)
        } catch  where error.kind == .invalidCredentials {
            throw RotorError(
                .pairRejected,
                "the vendor rejected username \(username) with this password (\(error.message)); nothing was stored")
        } catch {
            throw RotorError(.vendorUnavailable, "could not sign in as \(username) at \(apiURL): \(error)")
        }
    }

    private func requireAPI() throws -> any VendorAPI {
        guard let api else { throw RotorError(.verificationUnavailable, "no vendor client is available here") }
        return api
    }

    static func seal(password: Secret, tokens: UserTokens, id: Int64, keyring: Keyring) throws -> IdentitySecrets {
        IdentitySecrets(
            password: try keyring.seal(password, for: .identity(id: id, field: .password)),
            accessToken: try keyring.seal(tokens.access.token, for: .identity(id: id, field: .accessToken)),
            accessExpiresAt: tokens.access.expiresAt,
            refreshToken: try tokens.refreshToken.map {
                try keyring.seal($0, for: .identity(id: id, field: .refreshToken))
            })
    }
}
