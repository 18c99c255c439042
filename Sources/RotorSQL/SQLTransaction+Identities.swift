import Foundation
import RotorCore

/// The store's reads and writes of identities and their sealed secrets.
extension SQLTransaction {
    public func identity(named name: String) throws -> IdentitySummary? {
        try one("SELECT id, name, username, api_url FROM identities WHERE name = ?", [name], Self.identity)
    }

    public func identity(id: Int64) throws -> IdentitySummary? {
        try one("SELECT id, name, username, api_url FROM identities WHERE id = ?", [id], Self.identity)
    }

    public func identities() throws -> [IdentitySummary] {
        try fetch("SELECT id, name, username, api_url FROM identities ORDER BY name", [], Self.identity)
    }

    public func identitySecrets(id: Int64) throws -> IdentitySecrets? {
        try one("SELECT password, access_token, access_expires_at, refresh_token FROM identities WHERE id = ?", [id]) {
            row in
            let expires: Int64? = row[2]
            return IdentitySecrets(
                password: row[0], accessToken: row[1], accessExpiresAt: expires.map(Date.init(millis:)),
                refreshToken: row[3])
        }
    }

    public func insertIdentity(name: String, username: String, apiURL: String, at time: Date) throws -> Int64 {
        try execute(
            sql: """
                INSERT INTO identities (name, api_url, username, password, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """,
            arguments: [name, apiURL, username, Data(), time.millis, time.millis])
        return try lastInsertedRowID()
    }

    public func updateIdentitySecrets(id: Int64, _ secrets: IdentitySecrets, at time: Date) throws {
        try execute(
            sql: """
                UPDATE identities SET password = ?, access_token = ?, access_expires_at = ?, refresh_token = ?,
                    updated_at = ?
                WHERE id = ?
                """,
            arguments: [
                secrets.password, secrets.accessToken, secrets.accessExpiresAt?.millis, secrets.refreshToken,
                time.millis, id,
            ])
    }

    public func deleteIdentity(id: Int64) throws {
        try execute(sql: "DELETE FROM identities WHERE id = ?", arguments: [id])
    }

    static func identity(_ row: SQLRow) -> IdentitySummary {
        IdentitySummary(id: row[0], name: row[1], username: row[2], apiURL: row[3])
    }
}
