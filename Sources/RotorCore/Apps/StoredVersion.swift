import Foundation

/// A pair just stored as an app's current version, with what its audit
/// event names.
public struct StoredVersion: Sendable {
    public var version: Int
    public var fingerprint: String
    /// The version it replaces; nil for an app's first.
    public var previous: CredentialRecord?
}

extension LedgerTransaction {
    /// Stores `pair` as `app`'s next version (its first when it has none),
    /// sealed for that version's slot, and makes it current: the app's
    /// attention is cleared (a new pair is what an operator was asked for),
    /// and whatever was planned for the old pair is dropped (the next due
    /// time counts from this one). `app` is updated and stored.
    public func storeNextVersion(
        _ pair: ClientPair, of app: inout AppRecord, source: CredentialRecord.Source, rotationID: Int64?
    ) throws -> StoredVersion {
        let previous = try store.credential(appID: app.id, version: app.currentVersion)
        if previous == nil, source != .added {
            throw RotorError(
                .databaseInvalid, "app \(app.name) has no stored version \(app.currentVersion); restore from a backup")
        }
        let version = previous.map { $0.version + 1 } ?? app.currentVersion
        let fingerprint = keyring.fingerprint(pair.secret)
        try store.insertCredential(
            CredentialRecord(
                appID: app.id, version: version, clientID: pair.clientID,
                sealedSecret: try keyring.seal(pair.secret, for: .clientSecret(appID: app.id, version: version)),
                fingerprint: fingerprint, source: source, rotationID: rotationID, createdAt: now))
        app.currentVersion = version
        app.attention = nil
        app.updatedAt = now
        try store.updateApp(app)
        try store.dropPlannedOccurrences(appID: app.id)
        return StoredVersion(version: version, fingerprint: fingerprint, previous: previous)
    }
}
