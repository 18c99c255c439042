import Foundation
import GRDB
import RotorCore

/// A schema migration embedded from `migrations/NNNN_name.sql`.
public struct Migration: Sendable {
    public var version: Int
    public var file: String
    public var sql: String

    /// The first line of a migration that rebuilds a table (``SQLiteStore/migrate()``).
    static let foreignKeysOff = "-- rotor:foreign-keys-off"

    /// Every migration this build carries, in order.
    public static let all: [Migration] = embeddedMigrations.map { entry in
        let version = Int(entry.file.prefix(while: \.isNumber)) ?? 0
        let sql = String(decoding: Data(base64Encoded: entry.base64) ?? Data(), as: UTF8.self)
        return Migration(version: version, file: entry.file, sql: sql)
    }
}

extension SQLiteStore {
    public func pendingMigrations() async throws -> [String] {
        let applied = try appliedVersions()
        return Migration.all.filter { !applied.contains($0.version) }.map(\.file)
    }

    /// Applies each pending migration in its own `BEGIN IMMEDIATE`
    /// transaction and records it in `schema_migrations`.
    ///
    /// A migration that rebuilds a table (SQLite cannot change a CHECK in
    /// place) starts with the line `-- rotor:foreign-keys-off`: it runs with
    /// foreign keys off, so that dropping the old table does not cascade to
    /// the rows that refer to it, and commits only when `PRAGMA
    /// foreign_key_check` finds nothing (SQLite's documented procedure for
    /// other kinds of table schema change).
    public func migrate() async throws {
        for migration in Migration.all {
            let rebuilds = migration.sql.hasPrefix(Migration.foreignKeysOff)
            do {
                try await onConnection { db in
                    if rebuilds { try db.execute(sql: "PRAGMA foreign_keys = OFF") }
                    defer { if rebuilds { try? db.execute(sql: "PRAGMA foreign_keys = ON") } }
                    try db.inTransaction(.immediate) {
                        try SQLiteStore.createMigrationsTable(db)
                        let done =
                            try Bool.fetchOne(
                                db, sql: "SELECT 1 FROM schema_migrations WHERE version = ?",
                                arguments: [migration.version]) ?? false
                        if !done {
                            try db.execute(sql: migration.sql)
                            if rebuilds, try Row.fetchOne(db, sql: "PRAGMA foreign_key_check") != nil {
                                throw RotorError(
                                    .databaseInvalid,
                                    "migration \(migration.file) would leave rows that refer to nothing; nothing was changed"
                                )
                            }
                            try db.execute(
                                sql: "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                                arguments: [migration.version, migration.file, RFC3339.format(Date())])
                        }
                        return .commit
                    }
                }
            } catch {
                throw translate(error)
            }
        }
        wal.noteUnsynced()
        try await flush()
    }

    /// Refuses a database whose schema is newer than this build knows, and
    /// an SQLite database that holds tables but is not Rotor's.
    func checkSchemaIsKnown() throws {
        let foreign = try mapped {
            try queue.read { db in
                try !db.tableExists("schema_migrations")
                    && (Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'") ?? 0)
                        > 0
            }
        }
        if foreign {
            throw RotorError(
                .databaseInvalid, "\(UserText.shown(path)) is an SQLite database but not Rotor's; check --db")
        }
        let newest = try appliedVersions().max() ?? 0
        let known = Migration.all.map(\.version).max() ?? 0
        if newest > known {
            throw RotorError(
                .databaseTooNew,
                "\(UserText.shown(path)) has schema version \(newest), newer than this rotor knows (\(known)); run a newer rotor"
            )
        }
    }

    func appliedVersions() throws -> Set<Int> {
        try mapped {
            try queue.read { db in
                guard try db.tableExists("schema_migrations") else { return [] }
                return Set(try Int.fetchAll(db, sql: "SELECT version FROM schema_migrations"))
            }
        }
    }

    /// Runs `body`, turning a database error into a ``RotorCore/RotorError``.
    func mapped<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw translate(error)
        }
    }

    static func createMigrationsTable(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    INTEGER PRIMARY KEY NOT NULL,
                    name       TEXT NOT NULL,
                    applied_at TEXT NOT NULL
                )
                """)
    }
}
