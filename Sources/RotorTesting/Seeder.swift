import Foundation
import RotorCore

/// Bulk fixtures for benchmarks and load tests: many apps in one
/// transaction, through the same store interface the product uses.
public enum Seeder {
    /// Adds `count` apps named `app-00001`… with sealed secrets and their
    /// `app.added` events, in one transaction. With `targetDirectory`, each
    /// app also gets a file target there that holds its first version.
    public static func addApps(
        _ count: Int, to ledger: Ledger, schedule: Schedule = .every(seconds: 30 * 86400),
        targetDirectory: String? = nil
    ) async throws {
        try await ledger.commit { tx in
            for index in 1...count {
                let name = String(format: "app-%05d", index)
                let secret = Secret("seed-secret-\(index)-\(UUID().uuidString)")
                let id = try tx.store.insertApp(
                    NewApp(
                        name: name, applicationID: "application-\(index)", apiURL: AppRegistry.defaultAPIURL,
                        schedule: schedule, jitter: 0, window: nil, timezone: "UTC", identityID: nil),
                    at: tx.now)
                let fingerprint = tx.keyring.fingerprint(secret)
                try tx.store.insertCredential(
                    CredentialRecord(
                        appID: id, version: 1, clientID: "client-\(index)",
                        sealedSecret: try tx.keyring.seal(secret, for: .clientSecret(appID: id, version: 1)),
                        fingerprint: fingerprint, source: .added, rotationID: nil, createdAt: tx.now))
                try tx.record(
                    AuditDraft(.appAdded, app: name, detail: ["fingerprint": .string(fingerprint), "version": 1]))
                if let targetDirectory {
                    let target = try tx.store.insertTarget(
                        appID: id, .file(FileTarget(path: "\(targetDirectory)/\(name).env")), check: nil, at: tx.now)
                    try tx.store.saveDelivery(
                        DeliveryRecord(
                            targetID: target, version: 1, rotationID: nil, state: .succeeded, attempts: 1,
                            lastAttemptAt: tx.now))
                }
            }
        }
    }

    /// Adds one app per vendor application, with that application's pair,
    /// all pointing at `apiURL`, in one transaction.
    public static func addApps(
        _ applications: [(name: String, applicationID: String, clientID: String, secret: String)], apiURL: String,
        schedule: Schedule, to ledger: Ledger
    ) async throws {
        try await ledger.commit { tx in
            for application in applications {
                let secret = Secret(application.secret)
                let id = try tx.store.insertApp(
                    NewApp(
                        name: application.name, applicationID: application.applicationID, apiURL: apiURL,
                        schedule: schedule, jitter: 0, window: nil, timezone: "UTC", identityID: nil),
                    at: tx.now)
                try tx.store.insertCredential(
                    CredentialRecord(
                        appID: id, version: 1, clientID: application.clientID,
                        sealedSecret: try tx.keyring.seal(secret, for: .clientSecret(appID: id, version: 1)),
                        fingerprint: tx.keyring.fingerprint(secret), source: .added, rotationID: nil, createdAt: tx.now)
                )
            }
        }
    }
}
