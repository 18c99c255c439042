import Foundation
import RotorCore

extension SQLTransaction {
    public func groups() throws -> [GroupRecord] {
        let members = try fetch("SELECT group_id, app_id FROM group_members ORDER BY group_id, position") { row in
            (row[0] as Int64, row[1] as Int64)
        }
        return try fetch(
            """
            SELECT id, name, schedule_kind, schedule_expr, jitter_seconds, window_start, window_end, timezone,
                created_at
            FROM groups ORDER BY name
            """
        ) { row in
            let id: Int64 = row[0]
            let start: Int? = row[5]
            let end: Int? = row[6]
            return GroupRecord(
                id: id, name: row[1], members: members.filter { $0.0 == id }.map(\.1),
                schedule: Schedule.stored(kind: row[2], expression: row[3]), jitter: row[4],
                window: start.flatMap { start in end.map { TimeWindow(start: start, end: $0) } }, timezone: row[7],
                createdAt: Date(millis: row[8]))
        }
    }

    public func insertGroup(_ group: GroupRecord) throws -> Int64 {
        try execute(
            sql: """
                INSERT INTO groups (name, schedule_kind, schedule_expr, jitter_seconds, window_start, window_end,
                    timezone, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                group.name, group.schedule.kind, group.schedule.expression, group.jitter, group.window?.start,
                group.window?.end, group.timezone, group.createdAt.millis,
            ])
        let id = try lastInsertedRowID()
        for (position, app) in group.members.enumerated() {
            try execute(
                sql: "INSERT INTO group_members (app_id, group_id, position) VALUES (?, ?, ?)",
                arguments: [app, id, position])
        }
        return id
    }

    public func deleteGroup(id: Int64) throws {
        try execute(sql: "DELETE FROM groups WHERE id = ?", arguments: [id])
    }

    public func groupTargets(groupID: Int64) throws -> [TargetRecord] {
        try fetch(
            "SELECT \(SQLColumns.groupTargetColumns) FROM group_targets WHERE group_id = ? ORDER BY id", [groupID],
            Self.target)
    }

    public func insertGroupTarget(groupID: Int64, _ kind: TargetKind, at time: Date) throws -> Int64 {
        if case .webhook = kind { throw RotorError(.invalidInput, "a group's targets are files and exec hooks") }
        return try insertTarget(into: "group_targets", owner: "group_id", id: groupID, kind, at: time)
    }

    public func deleteGroupTarget(id: Int64) throws {
        try execute(sql: "DELETE FROM group_targets WHERE id = ?", arguments: [id])
    }

    public func groupDelivery(targetID: Int64, version: Int) throws -> DeliveryRecord? {
        try one(
            """
            SELECT target_id, version, state, attempts, next_attempt_at, last_attempt_at, last_error
            FROM group_deliveries WHERE target_id = ? AND version = ?
            """, [targetID, version]
        ) { row in
            DeliveryRecord(
                targetID: row[0], version: row[1], rotationID: nil,
                state: DeliveryRecord.State(rawValue: row[2]) ?? .failed, attempts: row[3],
                nextAttemptAt: (row[4] as Int64?).map(Date.init(millis:)),
                lastAttemptAt: (row[5] as Int64?).map(Date.init(millis:)), lastError: row[6])
        }
    }

    public func saveGroupDelivery(_ delivery: DeliveryRecord) throws {
        try execute(
            sql: """
                INSERT INTO group_deliveries (target_id, version, state, attempts, next_attempt_at, last_attempt_at,
                    last_error)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (target_id, version) DO UPDATE SET state = excluded.state, attempts = excluded.attempts,
                    next_attempt_at = excluded.next_attempt_at, last_attempt_at = excluded.last_attempt_at,
                    last_error = excluded.last_error
                """,
            arguments: [
                delivery.targetID, delivery.version, delivery.state.rawValue, delivery.attempts,
                delivery.nextAttemptAt?.millis, delivery.lastAttemptAt?.millis, delivery.lastError,
            ])
        if delivery.state == .succeeded {
            // Older versions are done with: their failed retries must not wake the scheduler.
            try execute(
                sql: "DELETE FROM group_deliveries WHERE target_id = ? AND version < ?",
                arguments: [delivery.targetID, delivery.version])
        }
    }
}
