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
