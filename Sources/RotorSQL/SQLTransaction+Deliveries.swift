import Foundation
import RotorCore

/// The store's reads and writes of targets, deliveries and alert hooks.
extension SQLTransaction {

    static func target(_ row: SQLRow) throws -> TargetRecord {
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
                FileTarget(
                    path: path, format: format, mode: mode, inPlace: row[6], owner: row[7], group: row[8],
                    template: row[14]))
        } else if kind == "exec", let command: String = row[9], (1...DurationText.maximum * 1000).contains(timeout) {
            target = .exec(
                ExecTarget(command: command, timeout: TimeInterval(timeout) / 1000, passEnvironment: row[11]))
        } else if kind == "webhook", let url: String = row[15], (1...DurationText.maximum * 1000).contains(timeout) {
            target = .webhook(
                WebhookTarget(
                    url: url, sealedHeaders: row[16], secretFile: row[17], timeout: TimeInterval(timeout) / 1000))
        } else {
            throw RotorError(.databaseInvalid, "target \(row[0] as Int64) is damaged; remove it and add it again")
        }
        let checkCommand: String? = row[18]
        let checkTimeout: Int64 = min(max(row[19] ?? 300_000, 1000), DurationText.maximum * 1000)
        return TargetRecord(
            id: row[0], appID: row[1], kind: target, enabled: row[12], createdAt: Date(millis: row[13]),
            check: checkCommand.map { ConsumerCheck(command: $0, timeout: TimeInterval(checkTimeout) / 1000) })
    }

    public func targets(appID: Int64) throws -> [TargetRecord] {
        try fetch("SELECT \(SQLColumns.targetColumns) FROM targets WHERE app_id = ? ORDER BY id", [appID], Self.target)
    }

    public func unsettledTargets() throws -> [Int64: [(targetID: Int64, delivery: DeliveryRecord?)]] {
        let unsettled = try fetch(
            """
            SELECT t.id, t.app_id, a.current_version FROM targets t JOIN apps a ON a.id = t.app_id
                LEFT JOIN deliveries d ON d.target_id = t.id AND d.version = a.current_version
            WHERE t.enabled = 1 AND (d.state IS NULL OR d.state != 'succeeded' OR d.check_error IS NOT NULL)
            ORDER BY t.id
            """
        ) { row -> (Int64, Int64, Int) in (row[0], row[1], row[2]) }
        var out: [Int64: [(targetID: Int64, delivery: DeliveryRecord?)]] = [:]
        for (id, appID, version) in unsettled {
            out[appID, default: []].append((id, try delivery(targetID: id, version: version)))
        }
        return out
    }

    public func target(id: Int64) throws -> TargetRecord? {
        try one("SELECT \(SQLColumns.targetColumns) FROM targets WHERE id = ?", [id], Self.target)
    }

    public func insertTarget(appID: Int64, _ kind: TargetKind, check: ConsumerCheck?, at time: Date) throws -> Int64 {
        let id = try insertTarget(id: appID, kind, at: time)
        if let check {
            try execute(
                sql: "UPDATE targets SET check_command = ?, check_timeout_ms = ? WHERE id = ?",
                arguments: [check.command, Int64(check.timeout * 1000), id])
        }
        return id
    }

    /// Inserts a target row into `table` (`targets`, or `group_targets` whose
    /// owner column is `group_id`); returns its ID.
    public func insertTarget(
        into table: String = "targets", owner column: String = "app_id", id owner: Int64, _ kind: TargetKind,
        at time: Date
    ) throws -> Int64 {
        switch kind {
        case .file(let file):
            try execute(
                sql: """
                    INSERT INTO \(table) (\(column), kind, path, format, mode, in_place, owner, grp, template, created_at)
                    VALUES (?, 'file', ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    owner, file.path, file.format.rawValue, file.mode, file.inPlace, file.owner, file.group,
                    file.template, time.millis,
                ])
        case .exec(let exec):
            try execute(
                sql: """
                    INSERT INTO \(table) (\(column), kind, command, timeout_ms, pass_env, created_at)
                    VALUES (?, 'exec', ?, ?, ?, ?)
                    """,
                arguments: [owner, exec.command, Int64(exec.timeout * 1000), exec.passEnvironment, time.millis])
        case .webhook(let webhook):
            try execute(
                sql: """
                    INSERT INTO \(table) (\(column), kind, url, secret_file, timeout_ms, created_at)
                    VALUES (?, 'webhook', ?, ?, ?, ?)
                    """,
                arguments: [owner, webhook.url, webhook.secretFile, Int64(webhook.timeout * 1000), time.millis])
        }
        return try lastInsertedRowID()
    }

    public func updateTarget(_ target: TargetRecord) throws {
        let check: StatementArguments = [
            target.check?.command, target.check.map { Int64($0.timeout * 1000) },
        ]
        switch target.kind {
        case .file(let file):
            try execute(
                sql: """
                    UPDATE targets SET path = ?, format = ?, mode = ?, in_place = ?, owner = ?, grp = ?, template = ?,
                        check_command = ?, check_timeout_ms = ?
                    WHERE id = ? AND kind = 'file'
                    """,
                arguments: StatementArguments.of(
                    [file.path, file.format.rawValue, file.mode, file.inPlace, file.owner, file.group, file.template]
                        + check + [target.id]))
        case .exec(let exec):
            try execute(
                sql: """
                    UPDATE targets SET command = ?, timeout_ms = ?, pass_env = ?, check_command = ?, check_timeout_ms = ?
                    WHERE id = ? AND kind = 'exec'
                    """,
                arguments: StatementArguments.of(
                    [exec.command, Int64(exec.timeout * 1000), exec.passEnvironment] + check + [target.id]))
        case .webhook(let webhook):
            try execute(
                sql: """
                    UPDATE targets SET url = ?, secret_file = ?, timeout_ms = ?, check_command = ?, check_timeout_ms = ?
                    WHERE id = ? AND kind = 'webhook'
                    """,
                arguments: StatementArguments.of(
                    [webhook.url, webhook.secretFile, Int64(webhook.timeout * 1000)] + check + [target.id]))
        }
        guard changesCount == 1 else {
            throw RotorError(.databaseInvalid, "target \(target.id) is not a \(target.kind.name) target to update")
        }
    }

    public func setTargetHeaders(id: Int64, _ box: Data) throws {
        try execute(sql: "UPDATE targets SET headers = ? WHERE id = ?", arguments: [box, id])
    }

    public func deleteTarget(id: Int64) throws {
        try execute(sql: "DELETE FROM targets WHERE id = ?", arguments: [id])
    }

    static func delivery(_ row: SQLRow) throws -> DeliveryRecord {
        guard let state = DeliveryRecord.State(rawValue: row[3]) else {
            throw RotorError(.databaseInvalid, "a stored delivery has an unknown state")
        }
        let next: Int64? = row[5]
        let last: Int64? = row[6]
        return DeliveryRecord(
            targetID: row[0], version: row[1], rotationID: row[2], state: state, attempts: row[4],
            nextAttemptAt: next.map(Date.init(millis:)), lastAttemptAt: last.map(Date.init(millis:)), lastError: row[7],
            output: row[8], alerted: row[9], confirmedAt: (row[10] as Int64?).map(Date.init(millis:)),
            checkError: row[11])
    }

    public func delivery(targetID: Int64, version: Int) throws -> DeliveryRecord? {
        try one(
            "SELECT \(SQLColumns.deliveryColumns) FROM deliveries WHERE target_id = ? AND version = ?",
            [targetID, version],
            Self.delivery)
    }

    public func deliveries(appID: Int64) throws -> [DeliveryRecord] {
        try fetch(
            """
            SELECT \(SQLColumns.deliveryColumns) FROM deliveries JOIN targets t ON t.id = deliveries.target_id
            WHERE t.app_id = ? ORDER BY deliveries.version DESC, deliveries.target_id
            """, [appID], Self.delivery)
    }

    public func latestDeliveredVersion(targetID: Int64) throws -> Int? {
        try value("SELECT MAX(version) FROM deliveries WHERE target_id = ? AND state = 'succeeded'", [targetID]) as Int?
    }

    public func saveDelivery(_ delivery: DeliveryRecord) throws {
        try execute(
            sql: """
                INSERT INTO deliveries (target_id, version, rotation_id, state, attempts, next_attempt_at,
                    last_attempt_at, last_error, output, alerted, confirmed_at, check_error)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (target_id, version) DO UPDATE SET rotation_id = excluded.rotation_id,
                    state = excluded.state, attempts = excluded.attempts, next_attempt_at = excluded.next_attempt_at,
                    last_attempt_at = excluded.last_attempt_at, last_error = excluded.last_error,
                    output = excluded.output, alerted = excluded.alerted, confirmed_at = excluded.confirmed_at,
                    check_error = excluded.check_error
                """,
            arguments: [
                delivery.targetID, delivery.version, delivery.rotationID, delivery.state.rawValue, delivery.attempts,
                delivery.nextAttemptAt?.millis, delivery.lastAttemptAt?.millis, delivery.lastError, delivery.output,
                delivery.alerted, delivery.confirmedAt?.millis, delivery.checkError,
            ])
    }

    public func alerts() throws -> [AlertRecord] {
        try fetch("SELECT id, command, timeout_ms, events, kind, url, secret_file FROM alerts ORDER BY id") { row in
            // Held to what `alert add` takes, so that a hand edit cannot trap.
            let timeout: Int64 = min(max(row[2], 1), DurationText.maximum * 1000)
            let url: String? = row[4] == "webhook" ? row[5] : nil
            return AlertRecord(
                id: row[0], command: row[1] ?? "", timeout: TimeInterval(timeout) / 1000,
                events: AlertEvent.stored(row[3]),
                webhook: url.map {
                    WebhookTarget(url: $0, secretFile: row[6], timeout: TimeInterval(timeout) / 1000)
                })
        }
    }

    public func insertAlert(
        command: String, timeout: TimeInterval, events: Set<AlertEvent>, webhook: WebhookTarget?, at time: Date
    ) throws -> Int64 {
        try execute(
            sql: """
                INSERT INTO alerts (kind, command, url, secret_file, timeout_ms, events, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                webhook == nil ? "exec" : "webhook", webhook == nil ? command : nil, webhook?.url,
                webhook?.secretFile, Int64(timeout * 1000), AlertEvent.text(events), time.millis,
            ])
        return try lastInsertedRowID()
    }

    public func updateAlert(_ alert: AlertRecord) throws {
        try execute(
            sql: """
                UPDATE alerts SET command = ?, url = ?, secret_file = ?, timeout_ms = ?, events = ?
                WHERE id = ? AND kind = ?
                """,
            arguments: [
                alert.webhook == nil ? alert.command : nil, alert.webhook?.url, alert.webhook?.secretFile,
                Int64(alert.timeout * 1000), AlertEvent.text(alert.events), alert.id,
                alert.webhook == nil ? "exec" : "webhook",
            ])
        guard changesCount == 1 else {
            throw RotorError(.databaseInvalid, "alert \(alert.id) is not an alert of its kind to update")
        }
    }

    public func queuedAlerts(dueBy time: Date) throws -> [QueuedAlert] {
        try fetch(
            """
            SELECT id, alert_id, event, app, severity, document, attempts, next_attempt_at, last_error, created_at
            FROM alert_outbox WHERE next_attempt_at <= ? ORDER BY id
            """, [time.millis]
        ) { row in
            QueuedAlert(
                id: row[0], alertID: row[1], event: row[2], app: row[3], severity: row[4], document: row[5],
                attempts: row[6], nextAttemptAt: Date(millis: row[7]), lastError: row[8],
                createdAt: Date(millis: row[9]))
        }
    }

    public func insertQueuedAlert(_ alert: QueuedAlert) throws -> Int64 {
        try execute(
            sql: """
                INSERT INTO alert_outbox (alert_id, event, app, severity, document, attempts, next_attempt_at,
                    last_error, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                alert.alertID, alert.event, alert.app, alert.severity, alert.document, alert.attempts,
                alert.nextAttemptAt.millis, alert.lastError, alert.createdAt.millis,
            ])
        return try lastInsertedRowID()
    }

    public func updateQueuedAlert(_ alert: QueuedAlert) throws {
        try execute(
            sql: "UPDATE alert_outbox SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?",
            arguments: [alert.attempts, alert.nextAttemptAt.millis, alert.lastError, alert.id])
    }

    public func deleteQueuedAlert(id: Int64) throws {
        try execute(sql: "DELETE FROM alert_outbox WHERE id = ?", arguments: [id])
    }

    public func deleteAlert(id: Int64) throws {
        try execute(sql: "DELETE FROM alerts WHERE id = ?", arguments: [id])
    }
}
