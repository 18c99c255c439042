import Foundation
import GRDB
import RotorCore

/// The SQLite store's reads and writes of leases.
extension SQLiteTransaction {
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
}
