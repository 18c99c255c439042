import Foundation
import GRDB
import RotorCore

/// ``RotorCore/StoreWriter`` over one GRDB connection inside a transaction.
struct SQLiteTransaction: StoreWriter {
    let db: Database

    /// Rows mapped one by one from a cursor, which reads each column straight
    /// from the statement (no copied rows, no by-name lookups).
    func fetch<T>(
        _ sql: String, _ arguments: StatementArguments = [], reserving capacity: Int = 0, _ map: (Row) throws -> T
    ) throws -> [T] {
        var out: [T] = []
        out.reserveCapacity(capacity)
        let rows = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments)
        while let row = try rows.next() { out.append(try map(row)) }
        return out
    }

    /// The first row of a statement prepared once per connection, mapped
    /// while SQLite still holds it (read positionally, never copied).
    func one<T>(_ sql: String, _ arguments: StatementArguments = [], _ map: (Row) throws -> T) throws -> T? {
        let rows = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments)
        return try withExtendedLifetime(rows) { try rows.next().map(map) }
    }

    /// The first column of the first row; nil when there is no row or it is NULL.
    func value<T: DatabaseValueConvertible>(_ sql: String, _ arguments: StatementArguments = []) throws -> T? {
        try one(sql, arguments) { row -> T? in row[0] } ?? nil
    }

    /// Runs a statement prepared once per connection and reused.
    func execute(sql: String, arguments: StatementArguments = []) throws {
        try db.cachedStatement(sql: sql).execute(arguments: arguments)
    }

    // MARK: meta

    func meta(_ key: MetaKey) throws -> String? {
        do {
            return try value("SELECT value FROM meta WHERE key = ?", [key.rawValue]) as String?
        } catch let error as DatabaseError where error.message?.hasPrefix("no such table") == true {
            return nil  // a database not initialised yet
        }
    }

    func setMeta(_ key: MetaKey, _ value: String) throws {
        try execute(
            sql: "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            arguments: [key.rawValue, value])
    }

    // MARK: apps

    func app(named name: String) throws -> AppRecord? {
        try one("SELECT \(Self.appColumns) FROM apps WHERE name = ?", [name], Self.app)
    }

    func app(id: Int64) throws -> AppRecord? {
        try one("SELECT \(Self.appColumns) FROM apps WHERE id = ?", [id], Self.app)
    }

    func apps() throws -> [AppRecord] {
        try fetch(
            "SELECT \(Self.appColumns) FROM apps ORDER BY name", [], reserving: try appCount(), Self.app)
    }

    /// How many apps there are: room reserved up front for listings of every app.
    func appCount() throws -> Int {
        try value("SELECT count(*) FROM apps") ?? 0
    }

    /// ``appColumns`` qualified with the alias `a`, for joins.
    static let joinedAppColumns = appColumns.split(separator: ",").map {
        "a." + $0.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func forEachApp(schedulable: Bool, _ body: (AppRecord, Date) throws -> Void) throws {
        let columns = Self.joinedAppColumns
        let rows = try Row.fetchCursor(
            db.cachedStatement(
                sql: """
                    SELECT \(columns.joined(separator: ", ")), c.created_at FROM apps a
                        JOIN credentials c ON c.app_id = a.id AND c.version = a.current_version
                    \(schedulable
                        ? "WHERE a.enabled = 1 AND a.schedule_kind != 'none' AND a.attention IS NULL"
                        : "ORDER BY a.name")
                    """))
        while let row = try rows.next() {
            try body(try Self.app(row), Date(millis: row[columns.count]))
        }
    }

    func insertApp(_ app: NewApp, at time: Date) throws -> Int64 {
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
        return db.lastInsertedRowID
    }

    func updateApp(_ app: AppRecord) throws {
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

    func deleteApp(id: Int64) throws {
        try execute(sql: "DELETE FROM apps WHERE id = ?", arguments: [id])
    }

    /// Rows are read by position (GRDB's by-name lookup is case-insensitive
    /// and costs more than the rest of a listing).
    static let appColumns = """
        id, name, application_id, api_url, schedule_kind, schedule_expr, jitter_seconds, window_start, window_end,
        timezone, identity_id, enabled, current_version, created_at, updated_at, attention, attention_at
        """

    static func app(_ row: Row) throws -> AppRecord {
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

    // MARK: credentials

    func credential(appID: Int64, version: Int) throws -> CredentialRecord? {
        try one(
            "SELECT \(Self.credentialColumns) FROM credentials WHERE app_id = ? AND version = ?", [appID, version],
            Self.credential)
    }

    /// ``credentialColumns`` with NULL in place of the sealed secret, for listings.
    static let credentialColumnsWithoutSecret = credentialColumns.replacingOccurrences(
        of: "credentials.client_secret", with: "NULL")

    func currentCredentials() throws -> [Int64: CredentialRecord] {
        let columns = Self.credentialColumnsWithoutSecret
        var out = [Int64: CredentialRecord](minimumCapacity: try appCount())
        let rows = try Row.fetchCursor(
            db.cachedStatement(
                sql: """
                    SELECT \(columns) FROM credentials JOIN apps a
                        ON a.id = credentials.app_id AND a.current_version = credentials.version
                    """))
        while let row = try rows.next() {
            let credential = try Self.credential(row)
            out[credential.appID] = credential
        }
        return out
    }

    func insertCredential(_ credential: CredentialRecord) throws {
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

    static let credentialColumns = """
        credentials.app_id, credentials.version, credentials.client_id, credentials.client_secret,
        credentials.fingerprint, credentials.source, credentials.rotation_id, credentials.created_at
        """

    static func credential(_ row: Row) throws -> CredentialRecord {
        guard let source = CredentialRecord.Source(rawValue: row[5]) else {
            throw RotorError(.databaseInvalid, "a stored credential has an unknown source")
        }
        return CredentialRecord(
            appID: row[0], version: row[1], clientID: row[2], sealedSecret: row[3], fingerprint: row[4],
            source: source, rotationID: row[6], createdAt: Date(millis: row[7]))
    }

    // MARK: identities

    func identity(named name: String) throws -> IdentitySummary? {
        try one("SELECT id, name, username, api_url FROM identities WHERE name = ?", [name], Self.identity)
    }

    func identity(id: Int64) throws -> IdentitySummary? {
        try one("SELECT id, name, username, api_url FROM identities WHERE id = ?", [id], Self.identity)
    }

    func identities() throws -> [IdentitySummary] {
        try Row.fetchAll(db, sql: "SELECT id, name, username, api_url FROM identities ORDER BY name").map(Self.identity)
    }

    func identitySecrets(id: Int64) throws -> IdentitySecrets? {
        try one("SELECT password, access_token, access_expires_at, refresh_token FROM identities WHERE id = ?", [id]) {
            row in
            let expires: Int64? = row[2]
            return IdentitySecrets(
                password: row[0], accessToken: row[1], accessExpiresAt: expires.map(Date.init(millis:)),
                refreshToken: row[3])
        }
    }

    func insertIdentity(name: String, username: String, apiURL: String, at time: Date) throws -> Int64 {
        try execute(
            sql: """
                INSERT INTO identities (name, api_url, username, password, created_at, updated_at)
                VALUES (?, ?, ?, x'', ?, ?)
                """,
            arguments: [name, apiURL, username, time.millis, time.millis])
        return db.lastInsertedRowID
    }

    func updateIdentitySecrets(id: Int64, _ secrets: IdentitySecrets, at time: Date) throws {
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

    func deleteIdentity(id: Int64) throws {
        try execute(sql: "DELETE FROM identities WHERE id = ?", arguments: [id])
    }

    static func identity(_ row: Row) -> IdentitySummary {
        IdentitySummary(id: row[0], name: row[1], username: row[2], apiURL: row[3])
    }

    // MARK: rotations

    func latestRotations() throws -> [Int64: RotationSummary] {
        let rows = try Row.fetchAll(
            db,
            sql:
                "SELECT \(Self.rotationColumns) FROM rotations WHERE id IN (SELECT MAX(id) FROM rotations GROUP BY app_id)"
        )
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
                db, sql: "SELECT \(Self.rotationColumns) FROM rotations WHERE app_id = ? ORDER BY id DESC LIMIT ?",
                arguments: [appID, limit]
            ).map(Self.rotation)
        }
        return try Row.fetchAll(
            db, sql: "SELECT \(Self.rotationColumns) FROM rotations ORDER BY id DESC LIMIT ?", arguments: [limit]
        )
        .map(Self.rotation)
    }

    func unresolvedRotation(appID: Int64) throws -> RotationSummary? {
        try one(
            """
            SELECT \(Self.rotationColumns) FROM rotations
            WHERE app_id = ? AND state IN (\(Self.unresolvedStates))
            """, [appID], Self.rotation)
    }

    static let rotationColumns = """
        id, app_id, trigger, state, from_version, to_version, error, started_at, finished_at
        """

    static func rotation(_ row: Row) throws -> RotationSummary {
        guard let trigger = RotationTrigger(rawValue: row[2]), let state = RotationState(rawValue: row[3]) else {
            throw RotorError(.databaseInvalid, "a stored rotation has an unknown state")
        }
        let finished: Int64? = row[8]
        return RotationSummary(
            id: row[0], appID: row[1], trigger: trigger, state: state, fromVersion: row[4], toVersion: row[5],
            error: row[6], startedAt: Date(millis: row[7]), finishedAt: finished.map(Date.init(millis:)))
    }

    /// `RotationState.isUnresolved` as an SQL list (the partial index `rotations_one_open` names the same states).
    static let unresolvedStates = RotationState.allCases.filter(\.isUnresolved).map { "'\($0.rawValue)'" }
        .joined(separator: ", ")

    static let rotationRecordColumns = """
        id, app_id, trigger, state, occurrence_due, occurrences, auth_kind, auth_token, from_version, to_version,
        attempts, next_attempt_at, error, started_at, updated_at, finished_at
        """

    static func rotationRecord(_ row: Row) throws -> RotationRecord {
        guard let trigger = RotationTrigger(rawValue: row[2]), let state = RotationState(rawValue: row[3]) else {
            throw RotorError(.databaseInvalid, "a stored rotation has an unknown state")
        }
        let due: Int64? = row[4]
        let kind: String? = row[6]
        let next: Int64? = row[11]
        let finished: Int64? = row[15]
        return RotationRecord(
            id: row[0], appID: row[1], trigger: trigger, state: state, occurrenceDue: due.map(Date.init(millis:)),
            occurrences: row[5], authKind: kind.flatMap(RotationRecord.AuthKind.init(rawValue:)), authToken: row[7],
            fromVersion: row[8], toVersion: row[9], attempts: row[10], nextAttemptAt: next.map(Date.init(millis:)),
            error: row[12], startedAt: Date(millis: row[13]), updatedAt: Date(millis: row[14]),
            finishedAt: finished.map(Date.init(millis:)))
    }

    func rotation(id: Int64) throws -> RotationRecord? {
        try one("SELECT \(Self.rotationRecordColumns) FROM rotations WHERE id = ?", [id], Self.rotationRecord)
    }

    func openRotations() throws -> [RotationRecord] {
        try fetch(
            """
            SELECT \(Self.rotationRecordColumns) FROM rotations
            WHERE state IN (\(Self.unresolvedStates)) ORDER BY id
            """, [], Self.rotationRecord)
    }

    func insertRotation(_ rotation: NewRotation, at time: Date, authToken: (Int64) throws -> Data) throws
        -> RotationRecord
    {
        // The id AUTOINCREMENT would give, taken under the write lock this transaction holds.
        let id: Int64 =
            try value(
                """
                SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'rotations'), 0),
                    COALESCE((SELECT MAX(id) FROM rotations), 0)) + 1
                """) ?? 1
        let inserted = try one(
            """
            INSERT INTO rotations (id, app_id, trigger, state, occurrence_due, occurrences, auth_kind, auth_token,
                from_version, started_at, updated_at)
            VALUES (?, ?, ?, 'requesting', ?, ?, ?, ?, ?, ?, ?)
            RETURNING \(Self.rotationRecordColumns)
            """,
            [
                id, rotation.appID, rotation.trigger.rawValue, rotation.occurrenceDue?.millis, rotation.occurrences,
                rotation.authKind.rawValue, try authToken(id), rotation.fromVersion, time.millis, time.millis,
            ], Self.rotationRecord)
        guard let inserted else { throw RotorError(.databaseInvalid, "the new rotation was not written") }
        return inserted
    }

    func updateRotation(_ rotation: RotationRecord) throws {
        try execute(
            sql: """
                UPDATE rotations SET state = ?, auth_kind = ?, auth_token = ?, to_version = ?, attempts = ?,
                    next_attempt_at = ?, error = ?, updated_at = ?, finished_at = ?
                WHERE id = ?
                """,
            arguments: [
                rotation.state.rawValue, rotation.authKind?.rawValue, rotation.authToken, rotation.toVersion,
                rotation.attempts, rotation.nextAttemptAt?.millis, rotation.error, rotation.updatedAt.millis,
                rotation.finishedAt?.millis, rotation.id,
            ])
    }

    func wipeSecret(appID: Int64, version: Int) throws {
        try execute(
            sql: "UPDATE credentials SET client_secret = NULL WHERE app_id = ? AND version = ?",
            arguments: [appID, version])
    }

    // MARK: targets, deliveries, alerts

    static let targetColumns = """
        id, app_id, kind, path, format, mode, in_place, owner, grp, command, timeout_ms, pass_env, enabled, created_at
        """

    static func target(_ row: Row) throws -> TargetRecord {
        let kind: String = row[2]
        let target: TargetKind
        // A mode or a timeout this Rotor would not have stored (a hand edit)
        // makes the target damaged, never a trap where it is used.
        let mode: Int = row[5] ?? 0o600
        let timeout: Int64 = row[10] ?? 30_000
        if kind == "file", let path: String = row[3], let format = FileTarget.Format(rawValue: row[4] ?? ""),
            (0...0o777).contains(mode)
        {
            target = .file(
                FileTarget(path: path, format: format, mode: mode, inPlace: row[6], owner: row[7], group: row[8]))
        } else if kind == "exec", let command: String = row[9], (1...DurationText.maximum * 1000).contains(timeout) {
            target = .exec(
                ExecTarget(command: command, timeout: TimeInterval(timeout) / 1000, passEnvironment: row[11]))
        } else {
            throw RotorError(.databaseInvalid, "target \(row[0] as Int64) is damaged; remove it and add it again")
        }
        return TargetRecord(id: row[0], appID: row[1], kind: target, enabled: row[12], createdAt: Date(millis: row[13]))
    }

    func targets(appID: Int64) throws -> [TargetRecord] {
        try fetch("SELECT \(Self.targetColumns) FROM targets WHERE app_id = ? ORDER BY id", [appID], Self.target)
    }

    func unsettledTargets() throws -> [Int64: [(targetID: Int64, delivery: DeliveryRecord?)]] {
        let unsettled = try fetch(
            """
            SELECT t.id, t.app_id, a.current_version FROM targets t JOIN apps a ON a.id = t.app_id
                LEFT JOIN deliveries d ON d.target_id = t.id AND d.version = a.current_version
            WHERE t.enabled = 1 AND (d.state IS NULL OR d.state != 'succeeded') ORDER BY t.id
            """
        ) { row -> (Int64, Int64, Int) in (row[0], row[1], row[2]) }
        var out: [Int64: [(targetID: Int64, delivery: DeliveryRecord?)]] = [:]
        for (id, appID, version) in unsettled {
            out[appID, default: []].append((id, try delivery(targetID: id, version: version)))
        }
        return out
    }

    func target(id: Int64) throws -> TargetRecord? {
        try one("SELECT \(Self.targetColumns) FROM targets WHERE id = ?", [id], Self.target)
    }

    func insertTarget(appID: Int64, _ kind: TargetKind, at time: Date) throws -> Int64 {
        switch kind {
        case .file(let file):
            try execute(
                sql: """
                    INSERT INTO targets (app_id, kind, path, format, mode, in_place, owner, grp, created_at)
                    VALUES (?, 'file', ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    appID, file.path, file.format.rawValue, file.mode, file.inPlace, file.owner, file.group,
                    time.millis,
                ])
        case .exec(let exec):
            try execute(
                sql: """
                    INSERT INTO targets (app_id, kind, command, timeout_ms, pass_env, created_at)
                    VALUES (?, 'exec', ?, ?, ?, ?)
                    """,
                arguments: [appID, exec.command, Int64(exec.timeout * 1000), exec.passEnvironment, time.millis])
        }
        return db.lastInsertedRowID
    }

    func deleteTarget(id: Int64) throws {
        try execute(sql: "DELETE FROM targets WHERE id = ?", arguments: [id])
    }

    static let deliveryColumns = """
        deliveries.target_id, deliveries.version, deliveries.rotation_id, deliveries.state, deliveries.attempts,
        deliveries.next_attempt_at, deliveries.last_attempt_at, deliveries.last_error, deliveries.output,
        deliveries.alerted
        """

    static func delivery(_ row: Row) throws -> DeliveryRecord {
        guard let state = DeliveryRecord.State(rawValue: row[3]) else {
            throw RotorError(.databaseInvalid, "a stored delivery has an unknown state")
        }
        let next: Int64? = row[5]
        let last: Int64? = row[6]
        return DeliveryRecord(
            targetID: row[0], version: row[1], rotationID: row[2], state: state, attempts: row[4],
            nextAttemptAt: next.map(Date.init(millis:)), lastAttemptAt: last.map(Date.init(millis:)), lastError: row[7],
            output: row[8], alerted: row[9])
    }

    func delivery(targetID: Int64, version: Int) throws -> DeliveryRecord? {
        try one(
            "SELECT \(Self.deliveryColumns) FROM deliveries WHERE target_id = ? AND version = ?", [targetID, version],
            Self.delivery)
    }

    func deliveries(appID: Int64) throws -> [DeliveryRecord] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT \(Self.deliveryColumns) FROM deliveries JOIN targets t ON t.id = deliveries.target_id
                WHERE t.app_id = ? ORDER BY deliveries.version DESC, deliveries.target_id
                """,
            arguments: [appID]
        ).map(Self.delivery)
    }

    func latestDeliveredVersion(targetID: Int64) throws -> Int? {
        try value("SELECT MAX(version) FROM deliveries WHERE target_id = ? AND state = 'succeeded'", [targetID]) as Int?
    }

    func saveDelivery(_ delivery: DeliveryRecord) throws {
        try execute(
            sql: """
                INSERT INTO deliveries (target_id, version, rotation_id, state, attempts, next_attempt_at,
                    last_attempt_at, last_error, output, alerted)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (target_id, version) DO UPDATE SET rotation_id = excluded.rotation_id,
                    state = excluded.state, attempts = excluded.attempts, next_attempt_at = excluded.next_attempt_at,
                    last_attempt_at = excluded.last_attempt_at, last_error = excluded.last_error,
                    output = excluded.output, alerted = excluded.alerted
                """,
            arguments: [
                delivery.targetID, delivery.version, delivery.rotationID, delivery.state.rawValue, delivery.attempts,
                delivery.nextAttemptAt?.millis, delivery.lastAttemptAt?.millis, delivery.lastError, delivery.output,
                delivery.alerted,
            ])
    }

    func alerts() throws -> [AlertRecord] {
        try fetch("SELECT id, command, timeout_ms FROM alerts ORDER BY id") { row in
            // Held to what `alert add` takes, so that a hand edit cannot trap.
            let timeout: Int64 = min(max(row[2], 1), DurationText.maximum * 1000)
            return AlertRecord(id: row[0], command: row[1], timeout: TimeInterval(timeout) / 1000)
        }
    }

    func insertAlert(command: String, timeout: TimeInterval, at time: Date) throws -> Int64 {
        try execute(
            sql: "INSERT INTO alerts (command, timeout_ms, created_at) VALUES (?, ?, ?)",
            arguments: [command, Int64(timeout * 1000), time.millis])
        return db.lastInsertedRowID
    }

    func deleteAlert(id: Int64) throws {
        try execute(sql: "DELETE FROM alerts WHERE id = ?", arguments: [id])
    }

    // MARK: occurrences

    static func occurrence(_ row: Row) throws -> OccurrenceRecord {
        guard let state = OccurrenceRecord.State(rawValue: row[5]) else {
            throw RotorError(.databaseInvalid, "a stored occurrence has an unknown state")
        }
        let retryAt: Int64? = row[8]
        return OccurrenceRecord(
            appID: row[0], due: Date(millis: row[1]), jitterMS: row[2], startAt: Date(millis: row[3]), covers: row[4],
            state: state, rotationID: row[6], attempts: row[7], retryAt: retryAt.map(Date.init(millis:)),
            lastError: row[9])
    }

    static let occurrenceColumns =
        "app_id, due_at, jitter_ms, start_at, covers, state, rotation_id, attempts, retry_at, last_error"

    func latestOccurrence(appID: Int64) throws -> OccurrenceRecord? {
        try one(
            "SELECT \(Self.occurrenceColumns) FROM occurrences WHERE app_id = ? ORDER BY due_at DESC LIMIT 1", [appID],
            Self.occurrence)
    }

    func occurrence(appID: Int64, due: Date) throws -> OccurrenceRecord? {
        try one(
            "SELECT \(Self.occurrenceColumns) FROM occurrences WHERE app_id = ? AND due_at = ?", [appID, due.millis],
            Self.occurrence)
    }

    func activeOccurrences() throws -> [Int64: [OccurrenceRecord]] {
        Dictionary(
            grouping: try fetch(
                "SELECT \(Self.occurrenceColumns) FROM occurrences WHERE state IN ('pending', 'started')", [],
                Self.occurrence),
            by: \.appID)
    }

    func claimOccurrence(_ occurrence: OccurrenceRecord) throws -> Bool {
        try execute(
            sql: """
                INSERT INTO occurrences (app_id, due_at, jitter_ms, start_at, covers, state)
                VALUES (?, ?, ?, ?, ?, 'started')
                ON CONFLICT (app_id, due_at) DO UPDATE SET state = 'started', covers = excluded.covers,
                    jitter_ms = excluded.jitter_ms, start_at = excluded.start_at
                WHERE state = 'pending' OR (state = 'started' AND rotation_id IS NULL)
                """,
            arguments: [
                occurrence.appID, occurrence.due.millis, occurrence.jitterMS, occurrence.startAt.millis,
                occurrence.covers,
            ])
        return db.changesCount == 1
    }

    func retryOccurrence(appID: Int64, due: Date, retryAt: Date, error: String, rotationID: Int64?) throws {
        try execute(
            sql: """
                UPDATE occurrences SET state = 'pending', rotation_id = NULL, attempts = attempts + 1, retry_at = ?,
                    last_error = ?
                WHERE app_id = ? AND due_at = ?
                    AND ((state = 'started' AND rotation_id IS NULL) OR (state = 'done' AND rotation_id = ?))
                """,
            arguments: [retryAt.millis, error, appID, due.millis, rotationID])
    }

    func dropPlannedOccurrences(appID: Int64) throws {
        try execute(sql: "DELETE FROM occurrences WHERE app_id = ? AND state = 'pending'", arguments: [appID])
    }

    func finishOccurrence(appID: Int64, due: Date, state: OccurrenceRecord.State, rotationID: Int64?) throws -> Bool {
        try execute(
            sql:
                "UPDATE occurrences SET state = ?, rotation_id = ? WHERE app_id = ? AND due_at = ? AND state = 'started'",
            arguments: [state.rawValue, rotationID, appID, due.millis])
        return db.changesCount == 1
    }

    func appsWithDueDeliveries(at time: Date) throws -> [Int64] {
        try fetch(
            """
            SELECT DISTINCT t.app_id FROM targets t JOIN apps a ON a.id = t.app_id
                LEFT JOIN deliveries d ON d.target_id = t.id AND d.version = a.current_version
            WHERE t.enabled = 1
                AND (d.target_id IS NULL
                    OR (d.state IN ('pending', 'failed') AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= ?)))
                AND NOT EXISTS (SELECT 1 FROM rotations r WHERE r.app_id = a.id
                    AND r.state IN (\(Self.unresolvedStates)))
            """, [time.millis]
        ) { row in row[0] }
    }

    func nextDeliveryAttempt(appID: Int64, version: Int) throws -> Date? {
        let millis: Int64? = try value(
            """
            SELECT MIN(d.next_attempt_at) FROM deliveries d JOIN targets t ON t.id = d.target_id
            WHERE t.app_id = ? AND t.enabled = 1 AND d.version = ? AND d.state IN ('pending', 'failed')
            """, [appID, version])
        return millis.map(Date.init(millis:))
    }

    func nextRetryTime() throws -> Date? {
        let deliveries: Int64? =
            try value(
                """
                SELECT MIN(d.next_attempt_at) FROM deliveries d JOIN targets t ON t.id = d.target_id AND t.enabled = 1
                    JOIN apps a ON a.id = t.app_id AND a.current_version = d.version
                WHERE d.state IN ('pending', 'failed')
                """, []) as Int64?
        let rotations: Int64? =
            try value(
                """
                SELECT MIN(next_attempt_at) FROM rotations WHERE state IN (\(Self.unresolvedStates))
                """, []) as Int64?
        return [deliveries, rotations].compactMap { $0 }.min().map(Date.init(millis:))
    }

    // MARK: leases

    func lease(_ name: String) throws -> Lease? {
        try one("SELECT name, owner, token, expires_at FROM leases WHERE name = ?", [name], Self.lease)
    }

    static func lease(_ row: Row) -> Lease {
        Lease(name: row[0], owner: row[1], token: row[2], expiresAt: Date(millis: row[3]))
    }

    /// A lease whose owner ran on this host and whose process is gone is
    /// taken over before it expires: a crashed `rotor rotate` does not block
    /// recovery for the lease's lifetime. Only SQLite can know this: every
    /// process that shares the file runs on one host.
    func acquireLease(_ name: String, owner: String, expiresAt: Date, now: Date) throws -> Lease {
        if let current = try lease(name), current.owner != owner, current.expiresAt > now,
            !LeaseOwner.isStale(current.owner)
        {
            return current
        }
        let taken = try one(
            """
            INSERT INTO leases (name, owner, token, expires_at, heartbeat_at) VALUES (?, ?, 1, ?, ?)
            ON CONFLICT (name) DO UPDATE SET
                token = CASE WHEN leases.owner = excluded.owner THEN leases.token ELSE leases.token + 1 END,
                owner = excluded.owner, expires_at = excluded.expires_at, heartbeat_at = excluded.heartbeat_at
            RETURNING name, owner, token, expires_at
            """, [name, owner, expiresAt.millis, now.millis], Self.lease)
        guard let taken else { throw RotorError(.databaseInvalid, "the lease \(name) was not written") }
        return taken
    }

    func releaseLease(_ name: String, owner: String) throws {
        try execute(sql: "DELETE FROM leases WHERE name = ? AND owner = ?", arguments: [name, owner])
    }

    func renewLease(_ lease: Lease, expiresAt: Date, now: Date) throws -> Bool {
        try execute(
            sql: "UPDATE leases SET expires_at = ?, heartbeat_at = ? WHERE name = ? AND owner = ? AND token = ?",
            arguments: [expiresAt.millis, now.millis, lease.name, lease.owner, lease.token])
        return db.changesCount == 1
    }

    // MARK: audit

    func auditHead() throws -> AuditHead? {
        try one("SELECT last_id, last_hash, base_id, base_hash, mac FROM audit_head WHERE id = 1") { row in
            AuditHead(lastID: row[0], lastHash: row[1], baseID: row[2], baseHash: row[3], mac: row[4])
        }
    }

    func auditEvents(ids range: ClosedRange<Int64>) throws -> [AuditEvent] {
        try fetch(
            "SELECT \(Self.auditColumns) FROM audit_events WHERE id BETWEEN ? AND ? ORDER BY id",
            [range.lowerBound, range.upperBound], Self.auditEvent)
    }

    func auditEvents(matching query: AuditQuery) throws -> [AuditEvent] {
        let filters: [(condition: String, value: (any DatabaseValueConvertible)?)] = [
            ("app = ?", query.app), ("action = ?", query.action), ("outcome = ?", query.outcome?.rawValue),
            ("time >= ?", query.since), ("time < ?", query.until), ("id > ?", query.afterID),
        ]
        var conditions: [String] = []
        var arguments: StatementArguments = []
        for filter in filters {
            guard let value = filter.value else { continue }
            conditions.append(filter.condition)
            arguments += [value]
        }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        // Ordered by time, then id, so the (app, time) and (action, time) indexes serve the order too.
        let direction = query.ascending ? "" : " DESC"
        let order = query.byID ? "ORDER BY id\(direction)" : "ORDER BY time\(direction), id\(direction)"
        var sql = "SELECT \(Self.auditColumns) FROM audit_events \(filter) \(order)"
        if let limit = query.limit {
            sql += " LIMIT ?"
            arguments += [limit]
        }
        return try fetch(sql, arguments, Self.auditEvent)
    }

    func pruneAudit(through id: Int64, head: AuditHead) throws {
        try execute(sql: "DELETE FROM audit_events WHERE id <= ?", arguments: [id])
        try execute(
            sql: "UPDATE audit_head SET base_id = ?, base_hash = ?, mac = ? WHERE id = 1",
            arguments: [head.baseID, head.baseHash, head.mac])
    }

    func appendAudit(_ event: AuditEvent, head: AuditHead) throws {
        try execute(
            sql: """
                INSERT INTO audit_events (id, time, actor, action, outcome, app, rotation_id, detail, prev_hash, hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                event.id, event.time, event.actor, event.action, event.outcome, event.app, event.rotationID,
                event.detail, event.prevHash, event.hash,
            ])
        try execute(
            sql: """
                INSERT INTO audit_head (id, last_id, last_hash, base_id, base_hash, mac) VALUES (1, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET last_id = excluded.last_id, last_hash = excluded.last_hash,
                    base_id = excluded.base_id, base_hash = excluded.base_hash, mac = excluded.mac
                """,
            arguments: [head.lastID, head.lastHash, head.baseID, head.baseHash, head.mac])
    }

    static let auditColumns = "id, time, actor, action, outcome, app, rotation_id, detail, prev_hash, hash"

    static func auditEvent(_ row: Row) -> AuditEvent {
        AuditEvent(
            id: row[0], time: row[1], actor: row[2], action: row[3], outcome: row[4], app: row[5], rotationID: row[6],
            detail: row[7], prevHash: row[8], hash: row[9])
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
            try execute(
                sql: "UPDATE credentials SET client_secret = ? WHERE app_id = ? AND version = ?",
                arguments: [box, appID, version])
        case .identity(let id, let field):
            // The column name comes from a closed enum, never from input.
            try execute(sql: "UPDATE identities SET \(field.rawValue) = ? WHERE id = ?", arguments: [box, id])
        case .rotationAuth(let id):
            try execute(sql: "UPDATE rotations SET auth_token = ? WHERE id = ?", arguments: [box, id])
        case .derivationRoot:
            try setMeta(.derivationRoot, box.base64EncodedString())
        case .spill:
            throw RotorError(.io, "a spill file's box is not stored in the database")
        }
    }
}

extension Date {
    /// Unix milliseconds, as the schema stores times.
    var millis: Int64 { unixMilliseconds }

    init(millis: Int64) {
        self.init(timeIntervalSince1970: TimeInterval(millis) / 1000)
    }
}
