import Foundation
import RotorCore

/// The store's reads and writes of leases.
extension SQLTransaction {
    public func lease(_ name: String) throws -> Lease? {
        try one("SELECT name, owner, token, expires_at FROM leases WHERE name = ?", [name], Self.lease)
    }

    public func leases(activeAt now: Date) throws -> [Lease] {
        try fetch(
            "SELECT name, owner, token, expires_at FROM leases WHERE expires_at > ? ORDER BY name", [now.millis],
            Self.lease)
    }

    public func nodes() throws -> [NodeRecord] {
        try fetch("SELECT name, pid, version, started_at, seen_at FROM nodes ORDER BY name") { row in
            NodeRecord(
                name: row[0], pid: row[1], version: row[2], startedAt: Date(millis: row[3]),
                seenAt: Date(millis: row[4]))
        }
    }

    public func recordNode(_ node: NodeRecord) throws {
        try execute(
            sql: """
                INSERT INTO nodes (name, pid, version, started_at, seen_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (name) DO UPDATE SET
                    pid = excluded.pid, version = excluded.version, started_at = excluded.started_at,
                    seen_at = excluded.seen_at
                """,
            arguments: [node.name, node.pid, node.version, node.startedAt.millis, node.seenAt.millis])
    }

    static func lease(_ row: SQLRow) -> Lease {
        Lease(name: row[0], owner: row[1], token: row[2], expiresAt: Date(millis: row[3]))
    }

    /// A lease is taken over once it expires, or before when the backend
    /// knows its owner is gone (``SQLTransaction/leaseOwnerIsGone(_:)``: on
    /// SQLite a crashed `rotor rotate` on this host does not block recovery
    /// for the lease's lifetime; across hosts nothing is known).
    public func acquireLease(_ name: String, owner: String, expiresAt: Date, now: Date) throws -> Lease {
        if let current = try lease(name), current.owner != owner, current.expiresAt > now,
            !leaseOwnerIsGone(current.owner)
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

    public func releaseLease(_ name: String, owner: String) throws {
        try execute(sql: "DELETE FROM leases WHERE name = ? AND owner = ?", arguments: [name, owner])
    }

    public func renewLease(_ lease: Lease, expiresAt: Date, now: Date) throws -> Bool {
        try execute(
            sql: "UPDATE leases SET expires_at = ?, heartbeat_at = ? WHERE name = ? AND owner = ? AND token = ?",
            arguments: [expiresAt.millis, now.millis, lease.name, lease.owner, lease.token])
        return changesCount == 1
    }
}
