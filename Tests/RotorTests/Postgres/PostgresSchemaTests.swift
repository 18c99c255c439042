import Foundation
import GRDB
import RotorCore
import RotorTesting
import Testing

/// `migrations/postgres/`: applies to a real PostgreSQL server in one
/// transaction, keeps the tables and columns of the SQLite schema (so the
/// two backends stay in step as migrations are added), and enforces what
/// several instances rely on in constraints, not in code.
@Suite(.serialized) struct PostgresSchemaTests {
    static let migrations = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("migrations/postgres")

    @Test func theSchemaAppliesHasTheSQLiteColumnsAndHoldsItsConstraints() async throws {
        let server = try await PostgresServer.start()
        do {
            try await server.createDatabase("rotor")
            let files = try FileManager.default.contentsOfDirectory(atPath: Self.migrations.path).filter {
                $0.hasSuffix(".sql")
            }.sorted()
            #expect(files.first == "0001_initial.sql")
            for file in files {
                try await server.psql(
                    "rotor", try String(contentsOf: Self.migrations.appendingPathComponent(file), encoding: .utf8))
            }
            let postgres = Set(
                try await server.psql(
                    "rotor",
                    // change_mark is PostgreSQL's own change counter (SQLite has PRAGMA data_version).
                    """
                    SELECT table_name || '.' || column_name FROM information_schema.columns
                    WHERE table_schema = 'public' AND table_name != 'change_mark'
                    """
                ).split(separator: "\n").map(String.init))

            let sqlite = try await TestDatabase()
            let queue = try DatabaseQueue(path: sqlite.path)
            let columns = try await queue.read { db in
                try String.fetchAll(
                    db,
                    sql: """
                        SELECT m.name || '.' || p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
                        WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'
                        """)
            }
            try queue.close()
            #expect(postgres.count > 100)
            #expect(postgres.subtracting(columns).sorted() == [], "only in PostgreSQL")
            #expect(Set(columns).subtracting(postgres).sorted() == [], "only in SQLite")

            // One unresolved rotation per app, and an append-only audit log, by the schema itself.
            try await server.psql(
                "rotor",
                """
                INSERT INTO apps (id, name, application_id, api_url, current_version, created_at, updated_at)
                    VALUES (1, 'billing', 'app-1', 'https://api.vitalera.io', 1, 0, 0);
                INSERT INTO rotations (app_id, trigger, state, from_version, started_at, updated_at)
                    VALUES (1, 'manual', 'requesting', 1, 0, 0);
                INSERT INTO audit_events (id, time, actor, action, outcome, detail, prev_hash, hash)
                    VALUES (1, 't', 'a', 'app.added', 'success', '{}', 'p', 'h');
                INSERT INTO occurrences (app_id, due_at, start_at, state) VALUES (1, 1000, 1000, 'pending');
                """)
            await #expect(throws: (any Error).self) {
                try await server.psql(
                    "rotor",
                    "INSERT INTO rotations (app_id, trigger, state, from_version, started_at, updated_at) VALUES (1, 'schedule', 'failed', 1, 0, 0)"
                )
            }
            await #expect(throws: (any Error).self) {
                try await server.psql("rotor", "UPDATE audit_events SET detail = '{\"x\":1}' WHERE id = 1")
            }
            await #expect(throws: (any Error).self) {
                try await server.psql(
                    "rotor",
                    "INSERT INTO occurrences (app_id, due_at, start_at, state) VALUES (1, 1000, 1000, 'started')")
            }
            #expect(try await server.psql("rotor", "SELECT count(*) FROM rotations") == "1\n")
        } catch {
            try await server.stop()
            throw error
        }
        try await server.stop()
    }
}
