import Foundation
import GRDB
import RotorCore

/// ``RotorCore/StoreWriter`` over one GRDB connection inside a transaction.
struct SQLiteTransaction: StoreWriter {
    let db: Database

    // MARK: meta

    func meta(_ key: MetaKey) throws -> String? {
        guard try db.tableExists("meta") else { return nil }
        return try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key.rawValue])
    }

    func setMeta(_ key: MetaKey, _ value: String) throws {
        try db.execute(
            sql: "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            arguments: [key.rawValue, value])
    }

    // MARK: apps

    func app(named name: String) throws -> AppRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM apps WHERE name = ?", arguments: [name]).map(Self.app)
    }

    func app(id: Int64) throws -> AppRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM apps WHERE id = ?", arguments: [id]).map(Self.app)
    }

    func apps() throws -> [AppRecord] {
        try Row.fetchAll(db, sql: "SELECT * FROM apps ORDER BY name").map(Self.app)
    }

    func insertApp(_ app: NewApp, at time: Date) throws -> Int64 {
        try db.execute(
            sql: """
                INSERT INTO apps (name, application_id, api_url, schedule_kind, schedule_expr, jitter_seconds,
                    window_start, window_end, timezone, identity_id, enabled, current_version, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 1, ?, ?)
                """,
            arguments: [
                app.name, app.applicationID, app.apiURL, app.schedule.kind, app.schedule.expression, app.jitter,
                app.window?.start, app.window?.end, app.timezone, app.identityID, time.millis, time.millis,
            ])
        return db.lastInsertedRowID
    }

    func updateApp(_ app: AppRecord) throws {
        try db.execute(
            sql: """
                UPDATE apps SET application_id = ?, api_url = ?, schedule_kind = ?, schedule_expr = ?,
                    jitter_seconds = ?, window_start = ?, window_end = ?, timezone = ?, identity_id = ?, enabled = ?,
                    current_version = ?, updated_at = ?
                WHERE id = ?
                """,
            arguments: [
                app.applicationID, app.apiURL, app.schedule.kind, app.schedule.expression, app.jitter,
                app.window?.start, app.window?.end, app.timezone, app.identityID, app.enabled, app.currentVersion,
                app.updatedAt.millis, app.id,
            ])
    }

    func deleteApp(id: Int64) throws {
        try db.execute(sql: "DELETE FROM apps WHERE id = ?", arguments: [id])
    }

    static func app(_ row: Row) throws -> AppRecord {
        let kind: String = row["schedule_kind"]
        let expression: String? = row["schedule_expr"]
        guard let schedule = Schedule.stored(kind: kind, expression: expression) else {
            throw RotorError(
                .databaseInvalid,
                "app \(row["name"] as String) has a damaged schedule; set it again with `rotor app set`")
        }
        let start: Int? = row["window_start"]
        let end: Int? = row["window_end"]
        return AppRecord(
            id: row["id"], name: row["name"], applicationID: row["application_id"], apiURL: row["api_url"],
            schedule: schedule, jitter: row["jitter_seconds"],
            window: start.flatMap { start in end.map { TimeWindow(start: start, end: $0) } },
            timezone: row["timezone"], identityID: row["identity_id"], enabled: row["enabled"],
            currentVersion: row["current_version"], createdAt: Date(millis: row["created_at"]),
            updatedAt: Date(millis: row["updated_at"]))
    }

    // MARK: credentials

    func credential(appID: Int64, version: Int) throws -> CredentialRecord? {
        try Row.fetchOne(
            db, sql: "SELECT * FROM credentials WHERE app_id = ? AND version = ?", arguments: [appID, version]
        ).map(Self.credential)
    }

    func currentCredentials() throws -> [Int64: CredentialRecord] {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT c.* FROM credentials c JOIN apps a ON a.id = c.app_id AND a.current_version = c.version
                """)
        var out: [Int64: CredentialRecord] = [:]
        for row in rows {
            let credential = try Self.credential(row)
            out[credential.appID] = credential
        }
        return out
    }

    func insertCredential(_ credential: CredentialRecord) throws {
        try db.execute(
            sql: """
                INSERT INTO credentials (app_id, version, client_id, client_secret, fingerprint, source, rotation_id, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                credential.appID, credential.version, credential.clientID, credential.sealedSecret,
                credential.fingerprint, credential.source.rawValue, credential.rotationID, credential.createdAt.millis,
            ])
    }

    static func credential(_ row: Row) throws -> CredentialRecord {
        guard let source = CredentialRecord.Source(rawValue: row["source"]) else {
            throw RotorError(.databaseInvalid, "a stored credential has an unknown source")
        }
        return CredentialRecord(
            appID: row["app_id"], version: row["version"], clientID: row["client_id"],
            sealedSecret: row["client_secret"], fingerprint: row["fingerprint"], source: source,
            rotationID: row["rotation_id"], createdAt: Date(millis: row["created_at"]))
    }

    // MARK: identities

    func identity(named name: String) throws -> IdentitySummary? {
        try Row.fetchOne(
            db, sql: "SELECT id, name, username, api_url FROM identities WHERE name = ?", arguments: [name]
        )
        .map(Self.identity)
    }

    func identity(id: Int64) throws -> IdentitySummary? {
        try Row.fetchOne(db, sql: "SELECT id, name, username, api_url FROM identities WHERE id = ?", arguments: [id])
            .map(Self.identity)
    }

    static func identity(_ row: Row) -> IdentitySummary {
        IdentitySummary(id: row["id"], name: row["name"], username: row["username"], apiURL: row["api_url"])
    }

    // MARK: rotations

    func latestRotations() throws -> [Int64: RotationSummary] {
        let rows = try Row.fetchAll(
            db, sql: "SELECT r.* FROM rotations r WHERE r.id = (SELECT MAX(id) FROM rotations WHERE app_id = r.app_id)")
        var out: [Int64: RotationSummary] = [:]
        for row in rows {
            let rotation = try Self.rotation(row)
            out[rotation.appID] = rotation
        }
        return out
    }

    func rotations(appID: Int64?, limit: Int) throws -> [RotationSummary] {
        if let appID {
            return try Row.fetchAll(
                db, sql: "SELECT * FROM rotations WHERE app_id = ? ORDER BY id DESC LIMIT ?", arguments: [appID, limit]
            ).map(Self.rotation)
        }
        return try Row.fetchAll(db, sql: "SELECT * FROM rotations ORDER BY id DESC LIMIT ?", arguments: [limit])
            .map(Self.rotation)
    }

    func unresolvedRotation(appID: Int64) throws -> RotationSummary? {
        try Row.fetchOne(
            db,
            sql:
                "SELECT * FROM rotations WHERE app_id = ? AND state IN ('requesting', 'rotated', 'verified', 'failed')",
            arguments: [appID]
        ).map(Self.rotation)
    }

    static func rotation(_ row: Row) throws -> RotationSummary {
        guard let trigger = RotationTrigger(rawValue: row["trigger"]), let state = RotationState(rawValue: row["state"])
        else {
            throw RotorError(.databaseInvalid, "a stored rotation has an unknown state")
        }
        let finished: Int64? = row["finished_at"]
        return RotationSummary(
            id: row["id"], appID: row["app_id"], trigger: trigger, state: state, fromVersion: row["from_version"],
            toVersion: row["to_version"], error: row["error"], startedAt: Date(millis: row["started_at"]),
            finishedAt: finished.map(Date.init(millis:)))
    }

    // MARK: audit

    func auditHead() throws -> AuditHead? {
        try Row.fetchOne(db, sql: "SELECT * FROM audit_head WHERE id = 1").map { row in
            AuditHead(
                lastID: row["last_id"], lastHash: row["last_hash"], baseID: row["base_id"], baseHash: row["base_hash"],
                mac: row["mac"])
        }
    }

    func auditEvents(ids range: ClosedRange<Int64>) throws -> [AuditEvent] {
        try Row.fetchAll(
            db, sql: "SELECT * FROM audit_events WHERE id BETWEEN ? AND ? ORDER BY id",
            arguments: [range.lowerBound, range.upperBound]
        ).map(Self.auditEvent)
    }

    func appendAudit(_ event: AuditEvent, head: AuditHead) throws {
        try db.execute(
            sql: """
                INSERT INTO audit_events (id, time, actor, action, outcome, app, rotation_id, detail, prev_hash, hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                event.id, event.time, event.actor, event.action, event.outcome, event.app, event.rotationID,
                event.detail, event.prevHash, event.hash,
            ])
        try db.execute(
            sql: """
                INSERT INTO audit_head (id, last_id, last_hash, base_id, base_hash, mac) VALUES (1, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET last_id = excluded.last_id, last_hash = excluded.last_hash,
                    base_id = excluded.base_id, base_hash = excluded.base_hash, mac = excluded.mac
                """,
            arguments: [head.lastID, head.lastHash, head.baseID, head.baseHash, head.mac])
    }

    static func auditEvent(_ row: Row) -> AuditEvent {
        AuditEvent(
            id: row["id"], time: row["time"], actor: row["actor"], action: row["action"], outcome: row["outcome"],
            app: row["app"], rotationID: row["rotation_id"], detail: row["detail"], prevHash: row["prev_hash"],
            hash: row["hash"])
    }

    // MARK: sealed values

    func sealedValues() throws -> [SealedValue] {
        var out: [SealedValue] = []
        for row in try Row.fetchAll(
            db, sql: "SELECT app_id, version, client_secret FROM credentials WHERE client_secret IS NOT NULL")
        {
            out.append(
                SealedValue(
                    slot: .clientSecret(appID: row["app_id"], version: row["version"]), box: row["client_secret"]))
        }
        for row in try Row.fetchAll(db, sql: "SELECT id, password, access_token, refresh_token FROM identities") {
            for field in SealSlot.IdentityField.allCases {
                if let box: Data = row[field.rawValue] {
                    out.append(SealedValue(slot: .identity(id: row["id"], field: field), box: box))
                }
            }
        }
        for row in try Row.fetchAll(db, sql: "SELECT id, auth_token FROM rotations WHERE auth_token IS NOT NULL") {
            out.append(SealedValue(slot: .rotationAuth(rotationID: row["id"]), box: row["auth_token"]))
        }
        if let root = try meta(.derivationRoot), let box = Data(base64Encoded: root) {
            out.append(SealedValue(slot: .derivationRoot, box: box))
        }
        return out
    }

    func replaceSealedValue(_ slot: SealSlot, with box: Data) throws {
        switch slot {
        case .clientSecret(let appID, let version):
            try db.execute(
                sql: "UPDATE credentials SET client_secret = ? WHERE app_id = ? AND version = ?",
                arguments: [box, appID, version])
        case .identity(let id, let field):
            // The column name comes from a closed enum, never from input.
            try db.execute(sql: "UPDATE identities SET \(field.rawValue) = ? WHERE id = ?", arguments: [box, id])
        case .rotationAuth(let id):
            try db.execute(sql: "UPDATE rotations SET auth_token = ? WHERE id = ?", arguments: [box, id])
        case .derivationRoot:
            try setMeta(.derivationRoot, box.base64EncodedString())
        }
    }
}

extension Date {
    /// Unix milliseconds, as the schema stores times.
    var millis: Int64 { Int64((timeIntervalSince1970 * 1000).rounded(.down)) }

    init(millis: Int64) {
        self.init(timeIntervalSince1970: TimeInterval(millis) / 1000)
    }
}
