import Foundation
import RotorCore

/// The store's reads and writes of the audit chain.
extension SQLTransaction {
    public func auditHead() throws -> AuditHead? {
        try readAuditHead()
    }

    /// `auditHead`'s statement, for a backend that keeps the head it read.
    public func readAuditHead() throws -> AuditHead? {
        try one("SELECT last_id, last_hash, base_id, base_hash, mac FROM audit_head WHERE id = 1") { row in
            AuditHead(lastID: row[0], lastHash: row[1], baseID: row[2], baseHash: row[3], mac: row[4])
        }
    }

    public func auditEvents(ids range: ClosedRange<Int64>) throws -> [AuditEvent] {
        try readAuditEvents(ids: range)
    }

    public func readAuditEvents(ids range: ClosedRange<Int64>) throws -> [AuditEvent] {
        try fetch(
            "SELECT \(SQLColumns.auditColumns) FROM audit_events WHERE id BETWEEN ? AND ? ORDER BY id",
            [range.lowerBound, range.upperBound], Self.auditEvent)
    }

    public func auditEvents(matching query: AuditQuery) throws -> [AuditEvent] {
        try readAuditEvents(matching: query)
    }

    public func readAuditEvents(matching query: AuditQuery) throws -> [AuditEvent] {
        let filters: [(condition: String, value: (any SQLArgument)?)] = [
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
        var sql = "SELECT \(SQLColumns.auditColumns) FROM audit_events \(filter) \(order)"
        if let limit = query.limit {
            sql += " LIMIT ?"
            arguments += [limit]
        }
        return try fetch(sql, arguments, Self.auditEvent)
    }

    public func pruneAudit(through id: Int64, head: AuditHead) throws {
        try deleteAuditEvents(through: id)
        try writeAuditHead(head)
    }

    public func deleteAuditEvents(through id: Int64) throws {
        try execute(sql: "DELETE FROM audit_events WHERE id <= ?", arguments: [id])
    }

    public func appendAudit(_ event: AuditEvent, head: AuditHead) throws {
        try insertAuditEvents([event])
        try writeAuditHead(head)
    }

    /// Inserts events in order, up to 1,000 a statement.
    public func insertAuditEvents(_ events: [AuditEvent]) throws {
        for start in stride(from: 0, to: events.count, by: 1000) {
            let chunk = events[start..<min(start + 1000, events.count)]
            var arguments: StatementArguments = []
            for event in chunk {
                arguments += [
                    event.id, event.time, event.actor, event.action, event.outcome, event.app, event.rotationID,
                    event.detail, event.prevHash, event.hash,
                ]
            }
            try execute(
                sql: """
                    INSERT INTO audit_events (id, time, actor, action, outcome, app, rotation_id, detail, prev_hash, hash)
                    VALUES \(Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", count: chunk.count).joined(separator: ", "))
                    """,
                arguments: arguments)
        }
    }

    public func writeAuditHead(_ head: AuditHead) throws {
        try execute(
            sql: """
                INSERT INTO audit_head (id, last_id, last_hash, base_id, base_hash, mac) VALUES (1, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET last_id = excluded.last_id, last_hash = excluded.last_hash,
                    base_id = excluded.base_id, base_hash = excluded.base_hash, mac = excluded.mac
                """,
            arguments: [head.lastID, head.lastHash, head.baseID, head.baseHash, head.mac])
    }

    static func auditEvent(_ row: SQLRow) -> AuditEvent {
        AuditEvent(
            id: row[0], time: row[1], actor: row[2], action: row[3], outcome: row[4], app: row[5], rotationID: row[6],
            detail: row[7], prevHash: row[8], hash: row[9])
    }
}
