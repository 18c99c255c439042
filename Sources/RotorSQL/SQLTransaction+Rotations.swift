import Foundation
import RotorCore

/// The store's reads and writes of rotations.
extension SQLTransaction {
    public func latestRotations() throws -> [Int64: RotationSummary] {
        let rotations = try fetch(
            "SELECT \(SQLColumns.rotationColumns) FROM rotations WHERE id IN (SELECT MAX(id) FROM rotations GROUP BY app_id)",
            [], Self.rotation)
        return Dictionary(rotations.map { ($0.appID, $0) }, uniquingKeysWith: { _, last in last })
    }

    public func rotations(appID: Int64?, limit: Int) throws -> [RotationSummary] {
        if let appID {
            return try fetch(
                "SELECT \(SQLColumns.rotationColumns) FROM rotations WHERE app_id = ? ORDER BY id DESC LIMIT ?",
                [appID, limit], Self.rotation)
        }
        return try fetch(
            "SELECT \(SQLColumns.rotationColumns) FROM rotations ORDER BY id DESC LIMIT ?", [limit], Self.rotation)
    }

    public func unresolvedRotation(appID: Int64) throws -> RotationSummary? {
        try one(
            """
            SELECT \(SQLColumns.rotationColumns) FROM rotations
            WHERE app_id = ? AND state IN (\(SQLColumns.unresolvedStates))
            """, [appID], Self.rotation)
    }

    static func rotation(_ row: SQLRow) throws -> RotationSummary {
        guard let trigger = RotationTrigger(rawValue: row[2]), let state = RotationState(rawValue: row[3]) else {
            throw RotorError(.databaseInvalid, "a stored rotation has an unknown state")
        }
        let finished: Int64? = row[8]
        return RotationSummary(
            id: row[0], appID: row[1], trigger: trigger, state: state, fromVersion: row[4], toVersion: row[5],
            error: row[6], startedAt: Date(millis: row[7]), finishedAt: finished.map(Date.init(millis:)))
    }

    static func rotationRecord(_ row: SQLRow) throws -> RotationRecord {
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

    public func rotation(id: Int64) throws -> RotationRecord? {
        try one("SELECT \(SQLColumns.rotationRecordColumns) FROM rotations WHERE id = ?", [id], Self.rotationRecord)
    }

    public func openRotations() throws -> [RotationRecord] {
        try fetch(
            """
            SELECT \(SQLColumns.rotationRecordColumns) FROM rotations
            WHERE state IN (\(SQLColumns.unresolvedStates)) ORDER BY id
            """, [], Self.rotationRecord)
    }

    public func insertRotation(_ rotation: NewRotation, at time: Date, authToken: (Int64) throws -> Data) throws
        -> RotationRecord
    {
        let id = try nextRotationID()
        let inserted = try one(
            """
            INSERT INTO rotations (id, app_id, trigger, state, occurrence_due, occurrences, auth_kind, auth_token,
                from_version, started_at, updated_at)
            VALUES (?, ?, ?, 'requesting', ?, ?, ?, ?, ?, ?, ?)
            RETURNING \(SQLColumns.rotationRecordColumns)
            """,
            [
                id, rotation.appID, rotation.trigger.rawValue, rotation.occurrenceDue?.millis, rotation.occurrences,
                rotation.authKind.rawValue, try authToken(id), rotation.fromVersion, time.millis, time.millis,
            ], Self.rotationRecord)
        guard let inserted else { throw RotorError(.databaseInvalid, "the new rotation was not written") }
        return inserted
    }

    public func updateRotation(_ rotation: RotationRecord) throws {
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

    public func wipeSecret(appID: Int64, version: Int) throws {
        try execute(
            sql: "UPDATE credentials SET client_secret = NULL WHERE app_id = ? AND version = ?",
            arguments: [appID, version])
    }
}
