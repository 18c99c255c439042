import Foundation
import RotorCore

/// The store's reads and writes of scheduled occurrences and retry times.
extension SQLTransaction {
    static func occurrence(_ row: SQLRow) throws -> OccurrenceRecord {
        guard let state = OccurrenceRecord.State(rawValue: row[5]) else {
            throw RotorError(.databaseInvalid, "a stored occurrence has an unknown state")
        }
        let retryAt: Int64? = row[8]
        return OccurrenceRecord(
            appID: row[0], due: Date(millis: row[1]), jitterMS: row[2], startAt: Date(millis: row[3]), covers: row[4],
            state: state, rotationID: row[6], attempts: row[7], retryAt: retryAt.map(Date.init(millis:)),
            lastError: row[9])
    }

    public func latestOccurrence(appID: Int64) throws -> OccurrenceRecord? {
        try one(
            "SELECT \(SQLColumns.occurrenceColumns) FROM occurrences WHERE app_id = ? ORDER BY due_at DESC LIMIT 1",
            [appID],
            Self.occurrence)
    }

    public func occurrence(appID: Int64, due: Date) throws -> OccurrenceRecord? {
        try one(
            "SELECT \(SQLColumns.occurrenceColumns) FROM occurrences WHERE app_id = ? AND due_at = ?",
            [appID, due.millis],
            Self.occurrence)
    }

    public func activeOccurrences() throws -> [Int64: [OccurrenceRecord]] {
        Dictionary(
            grouping: try fetch(
                "SELECT \(SQLColumns.occurrenceColumns) FROM occurrences WHERE state IN ('pending', 'started')", [],
                Self.occurrence),
            by: \.appID)
    }

    public func claimOccurrence(_ occurrence: OccurrenceRecord) throws -> Bool {
        try execute(
            sql: """
                INSERT INTO occurrences (app_id, due_at, jitter_ms, start_at, covers, state)
                VALUES (?, ?, ?, ?, ?, 'started')
                ON CONFLICT (app_id, due_at) DO UPDATE SET state = 'started', covers = excluded.covers,
                    jitter_ms = excluded.jitter_ms, start_at = excluded.start_at
                WHERE occurrences.state = 'pending' OR (occurrences.state = 'started' AND occurrences.rotation_id IS NULL)
                """,
            arguments: [
                occurrence.appID, occurrence.due.millis, occurrence.jitterMS, occurrence.startAt.millis,
                occurrence.covers,
            ])
        return changesCount == 1
    }

    public func retryOccurrence(appID: Int64, due: Date, retryAt: Date, error: String, rotationID: Int64?) throws {
        try execute(
            sql: """
                UPDATE occurrences SET state = 'pending', rotation_id = NULL, attempts = attempts + 1, retry_at = ?,
                    last_error = ?
                WHERE app_id = ? AND due_at = ?
                    AND ((state = 'started' AND rotation_id IS NULL) OR (state = 'done' AND rotation_id = ?))
                """,
            arguments: [retryAt.millis, error, appID, due.millis, rotationID])
    }

    public func dropPlannedOccurrences(appID: Int64) throws {
        try execute(sql: "DELETE FROM occurrences WHERE app_id = ? AND state = 'pending'", arguments: [appID])
    }

    public func finishOccurrence(appID: Int64, due: Date, state: OccurrenceRecord.State, rotationID: Int64?) throws
        -> Bool
    {
        try execute(
            sql:
                "UPDATE occurrences SET state = ?, rotation_id = ? WHERE app_id = ? AND due_at = ? AND state = 'started'",
            arguments: [state.rawValue, rotationID, appID, due.millis])
        return changesCount == 1
    }

    public func appsWithDueDeliveries(at time: Date) throws -> [Int64] {
        try fetch(
            """
            SELECT DISTINCT t.app_id FROM targets t JOIN apps a ON a.id = t.app_id
                LEFT JOIN deliveries d ON d.target_id = t.id AND d.version = a.current_version
            WHERE t.enabled = 1
                AND (d.target_id IS NULL
                    OR (d.state IN ('pending', 'failed') AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= ?)))
                AND NOT EXISTS (SELECT 1 FROM rotations r WHERE r.app_id = a.id
                    AND r.state IN (\(SQLColumns.unresolvedStates)))
            """, [time.millis]
        ) { row in row[0] }
    }

    public func nextDeliveryAttempt(appID: Int64, version: Int) throws -> Date? {
        let millis: Int64? = try value(
            """
            SELECT MIN(d.next_attempt_at) FROM deliveries d JOIN targets t ON t.id = d.target_id
            WHERE t.app_id = ? AND t.enabled = 1 AND d.version = ? AND d.state IN ('pending', 'failed')
            """, [appID, version])
        return millis.map(Date.init(millis:))
    }

    public func nextRetryTime() throws -> Date? {
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
                SELECT MIN(next_attempt_at) FROM rotations WHERE state IN (\(SQLColumns.unresolvedStates))
                """, []) as Int64?
        let alerts: Int64? = try value("SELECT MIN(next_attempt_at) FROM alert_outbox", []) as Int64?
        let groups: Int64? =
            try value("SELECT MIN(next_attempt_at) FROM group_deliveries WHERE state = 'failed'", []) as Int64?
        return [deliveries, rotations, alerts, groups].compactMap { $0 }.min().map(Date.init(millis:))
    }
}
