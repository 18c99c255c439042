import Foundation
import GRDB
import RotorCore
import RotorSQLite
import RotorTesting
import Testing

struct MigrationTests {
    @Test func everyMigrationFileIsEmbeddedInOrder() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let files = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("migrations").path)
            .filter { $0.hasSuffix(".sql") }.sorted()
        #expect(!files.isEmpty)
        #expect(Migration.all.map(\.file) == files)
        #expect(Migration.all.map(\.version) == Array(1...files.count))
        for migration in Migration.all {
            let onDisk = try String(
                contentsOf: root.appendingPathComponent("migrations/\(migration.file)"), encoding: .utf8)
            #expect(migration.sql == onDisk)
        }
    }

    @Test func aFreshDatabaseHasEverythingApplied() async throws {
        let db = try await TestDatabase()
        #expect(try await db.store.pendingMigrations().isEmpty)
        let mode = try db.store.withConnection { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
        let sync = try db.store.withConnection { try Int.fetchOne($0, sql: "PRAGMA synchronous") }
        #expect(sync == 1)  // NORMAL: Rotor fsyncs the WAL itself before a commit counts (GroupCommitTests)
        let foreignKeys = try db.store.withConnection { try Int.fetchOne($0, sql: "PRAGMA foreign_keys") }
        #expect(foreignKeys == 1)
        // MEMORY: savepoint journals never put database pages in temporary files.
        let tempStore = try db.store.withConnection { try Int.fetchOne($0, sql: "PRAGMA temp_store") }
        #expect(tempStore == 2)
    }

    @Test func aNewerSchemaIsRefused() async throws {
        let db = try await TestDatabase()
        try db.store.withConnection {
            try $0.execute(
                sql: "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future.sql', 'x')")
        }
        #expect(throws: RotorError.self) { try SQLiteStore.open(path: db.path) }
    }

    @Test func aForeignSQLiteDatabaseIsRefused() throws {
        let dir = TemporaryDirectory()
        let other = try DatabaseQueue(path: dir.file("other.db"))
        try other.write { try $0.execute(sql: "CREATE TABLE customers (id INTEGER)") }
        do {
            _ = try SQLiteStore.open(path: dir.file("other.db"), create: true)
            Issue.record("opened a foreign database")
        } catch let error as RotorError {
            #expect(error.code == .databaseInvalid)
        }
    }
}

/// Migration 0005 rebuilds `targets` and `alerts` (their kind CHECKs change).
struct TableRebuildMigrationTests {
    @Test func targetsDeliveriesAlertsAndTheirIDsSurviveTheRebuild() async throws {
        let dir = TemporaryDirectory()
        let path = dir.file("rotor.db")
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            try db.execute(
                sql:
                    "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY NOT NULL, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            for migration in Migration.all where migration.version <= 4 {
                try db.execute(sql: migration.sql)
                try db.execute(
                    sql: "INSERT INTO schema_migrations VALUES (?, ?, 'x')",
                    arguments: [migration.version, migration.file])
            }
            try db.execute(
                sql: """
                    INSERT INTO apps (id, name, application_id, api_url, current_version, created_at, updated_at)
                        VALUES (1, 'billing', 'app-1', 'https://api.vitalera.io', 1, 0, 0);
                    INSERT INTO targets (id, app_id, kind, path, format, mode, created_at) VALUES (1, 1, 'file', '/x', 'env', 384, 0);
                    INSERT INTO targets (id, app_id, kind, command, timeout_ms, created_at) VALUES (2, 1, 'exec', 'true', 30000, 0);
                    INSERT INTO targets (id, app_id, kind, command, timeout_ms, created_at) VALUES (9, 1, 'exec', 'gone', 30000, 0);
                    DELETE FROM targets WHERE id = 9;
                    INSERT INTO deliveries (target_id, version, state, attempts) VALUES (1, 1, 'succeeded', 1);
                    INSERT INTO deliveries (target_id, version, state, attempts) VALUES (2, 1, 'failed', 3);
                    INSERT INTO alerts (id, command, timeout_ms, created_at, events) VALUES (4, 'page', 30000, 0, 'lost');
                    """)
        }
        try queue.close()
        let store = try SQLiteStore.open(path: path)
        try await store.migrate()
        try store.withConnection { db in
            #expect(try Int.fetchOne(db, sql: "SELECT MAX(version) FROM schema_migrations") == Migration.all.count)
            #expect(try Int.fetchAll(db, sql: "SELECT id FROM targets ORDER BY id") == [1, 2])
            #expect(
                try String.fetchAll(db, sql: "SELECT state FROM deliveries ORDER BY target_id") == [
                    "succeeded", "failed",
                ])
            #expect(try String.fetchOne(db, sql: "SELECT events FROM alerts WHERE id = 4 AND kind = 'exec'") == "lost")
            #expect(try Int.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'targets'") == 9)
            #expect(try Int.fetchOne(db, sql: "PRAGMA foreign_keys") == 1)
            #expect(try String.fetchOne(db, sql: "PRAGMA integrity_check") == "ok")
            #expect(try Row.fetchOne(db, sql: "PRAGMA foreign_key_check") == nil)
            // A removed target's id is not handed out again; a delivery still cascades with its target.
            try db.execute(
                sql: "INSERT INTO targets (app_id, kind, url, created_at) VALUES (1, 'webhook', 'https://x', 0)")
            #expect(db.lastInsertedRowID == 10)
            try db.execute(sql: "DELETE FROM targets WHERE id = 1")
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM deliveries") == 1)
        }
        try await store.close()
    }
}
