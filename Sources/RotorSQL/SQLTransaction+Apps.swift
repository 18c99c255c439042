import Foundation
import RotorCore

/// The store's reads and writes of apps and their credential versions.
extension SQLTransaction {
    public func app(named name: String) throws -> AppRecord? {
        try one("SELECT \(SQLColumns.appColumns) FROM apps WHERE name = ?", [name], Self.app)
    }

    public func app(id: Int64) throws -> AppRecord? {
        try one("SELECT \(SQLColumns.appColumns) FROM apps WHERE id = ?", [id], Self.app)
    }

    public func apps() throws -> [AppRecord] {
        try fetch(
            "SELECT \(SQLColumns.appColumns) FROM apps ORDER BY name", [], reserving: try appCount(), Self.app)
    }

    /// How many apps there are: room reserved up front for listings of every app.
    public func appCount() throws -> Int {
        try value("SELECT count(*) FROM apps") ?? 0
    }

    public func forEachApp(schedulable: Bool, _ body: (AppRecord, Date) throws -> Void) throws {
        let columns = SQLColumns.joinedAppColumns
        try rows(
            """
            SELECT \(columns.joined(separator: ", ")), c.created_at FROM apps a
                JOIN credentials c ON c.app_id = a.id AND c.version = a.current_version
            \(schedulable
                ? """
                WHERE a.enabled = 1 AND a.schedule_kind != 'none' AND a.attention IS NULL
                    AND a.id NOT IN (SELECT app_id FROM group_members)
                """
                : "ORDER BY a.name")
            """, []
        ) { row in try body(try Self.app(row), Date(millis: row[columns.count])) }
    }

    public func tokenClients(appID: Int64) throws -> [String] {
        try fetch("SELECT client FROM token_clients WHERE app_id = ? ORDER BY client", [appID]) { row in row[0] }
    }

    public func setTokenClients(appID: Int64, _ clients: [String]) throws {
        try execute(sql: "DELETE FROM token_clients WHERE app_id = ?", arguments: [appID])
        for client in Set(clients) {
            try execute(sql: "INSERT INTO token_clients (app_id, client) VALUES (?, ?)", arguments: [appID, client])
        }
    }

    public func insertApp(_ app: NewApp, at time: Date) throws -> Int64 {
        try execute(
            sql: """
                INSERT INTO apps (name, application_id, api_url, schedule_kind, schedule_expr, jitter_seconds,
                    window_start, window_end, timezone, identity_id, enabled, current_version, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 1, ?, ?)
                """,
            arguments: [
                app.name, app.applicationID, app.apiURL, app.schedule.kind, app.schedule.expression, app.jitter,
                app.window?.start, app.window?.end, app.timezone, app.identityID, time.millis, time.millis,
            ])
        return try lastInsertedRowID()
    }

    public func updateApp(_ app: AppRecord) throws {
        try execute(
            sql: """
                UPDATE apps SET application_id = ?, api_url = ?, schedule_kind = ?, schedule_expr = ?,
                    jitter_seconds = ?, window_start = ?, window_end = ?, timezone = ?, identity_id = ?, enabled = ?,
                    current_version = ?, updated_at = ?, attention = ?, attention_at = ?
                WHERE id = ?
                """,
            arguments: [
                app.applicationID, app.apiURL, app.schedule.kind, app.schedule.expression, app.jitter,
                app.window?.start, app.window?.end, app.timezone, app.identityID, app.enabled, app.currentVersion,
                app.updatedAt.millis, app.attention?.reason, app.attention?.since.millis, app.id,
            ])
    }

    public func deleteApp(id: Int64) throws {
        try execute(sql: "DELETE FROM apps WHERE id = ?", arguments: [id])
    }

    static func app(_ row: SQLRow) throws -> AppRecord {
        let name: String = row[1]
        let kind: String = row[4]
        let expression: String? = row[5]
        let schedule = Schedule.stored(kind: kind, expression: expression)
        let start: Int? = row[7]
        let end: Int? = row[8]
        let reason: String? = row[15]
        let since: Int64? = row[16]
        return AppRecord(
            id: row[0], name: name, applicationID: row[2], apiURL: row[3], schedule: schedule, jitter: row[6],
            window: start.flatMap { start in end.map { TimeWindow(start: start, end: $0) } }, timezone: row[9],
            identityID: row[10], enabled: row[11], currentVersion: row[12], createdAt: Date(millis: row[13]),
            updatedAt: Date(millis: row[14]),
            attention: reason.map { Attention(reason: $0, since: Date(millis: since ?? row[14])) })
    }

    public func credential(appID: Int64, version: Int) throws -> CredentialRecord? {
        try one(
            "SELECT \(SQLColumns.credentialColumns) FROM credentials WHERE app_id = ? AND version = ?",
            [appID, version],
            Self.credential)
    }

    public func currentCredentials() throws -> [Int64: CredentialRecord] {
        var out = [Int64: CredentialRecord](minimumCapacity: try appCount())
        try rows(
            """
            SELECT \(SQLColumns.credentialColumnsWithoutSecret) FROM credentials JOIN apps a
                ON a.id = credentials.app_id AND a.current_version = credentials.version
            """, []
        ) { row in
            let credential = try Self.credential(row)
            out[credential.appID] = credential
        }
        return out
    }

    public func insertCredential(_ credential: CredentialRecord) throws {
        try execute(
            sql: """
                INSERT INTO credentials (app_id, version, client_id, client_secret, fingerprint, source, rotation_id, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                credential.appID, credential.version, credential.clientID, credential.sealedSecret,
                credential.fingerprint, credential.source.rawValue, credential.rotationID, credential.createdAt.millis,
            ])
    }

    static func credential(_ row: SQLRow) throws -> CredentialRecord {
        guard let source = CredentialRecord.Source(rawValue: row[5]) else {
            throw RotorError(.databaseInvalid, "a stored credential has an unknown source")
        }
        return CredentialRecord(
            appID: row[0], version: row[1], clientID: row[2], sealedSecret: row[3], fingerprint: row[4],
            source: source, rotationID: row[6], createdAt: Date(millis: row[7]))
    }
}
