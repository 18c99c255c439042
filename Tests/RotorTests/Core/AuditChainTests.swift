import Foundation
import GRDB
import RotorCore
import RotorSQLite
import RotorTesting
import Testing

struct AuditChainTests {
    /// A database with five events: three apps added, one revealed, one removed.
    func populated() async throws -> TestDatabase {
        let db = try await TestDatabase()
        for name in ["a", "b", "c"] { try await db.addApp(name) }
        _ = try await db.registry.reveal("a")
        try await db.registry.remove("b")
        return db
    }

    func verify(_ db: TestDatabase) async throws -> AuditLog.Verification {
        try await AuditLog(ledger: db.ledger).verify()
    }

    /// Runs raw SQL with the append-only trigger lifted, as an attacker with file access could.
    func tamper(_ db: TestDatabase, _ sql: String) throws {
        try db.store.withConnection { conn in
            try conn.execute(sql: "DROP TRIGGER audit_events_no_update")
            try conn.execute(sql: sql)
        }
    }

    @Test func anUntouchedChainVerifies() async throws {
        let db = try await populated()
        let result = try await verify(db)
        #expect(result.isIntact, "\(String(describing: result.firstBreak))")
        #expect(result.checked == 5)
        let actions = try await db.store.read { try $0.auditEvents(ids: 1...100) }.map(\.action)
        #expect(actions == ["app.added", "app.added", "app.added", "secret.revealed", "app.removed"])
    }

    @Test func eventsCannotBeUpdatedThroughSQL() async throws {
        let db = try await populated()
        #expect(throws: (any Error).self) {
            try db.store.withConnection { try $0.execute(sql: "UPDATE audit_events SET actor = 'x' WHERE id = 2") }
        }
    }

    @Test func anEditedEventIsNamed() async throws {
        let db = try await populated()
        try tamper(db, "UPDATE audit_events SET actor = 'mallory@host' WHERE id = 3")
        #expect(try await verify(db).firstBreak?.eventID == 3)
    }

    @Test func anEditedDetailIsNamed() async throws {
        let db = try await populated()
        try tamper(db, "UPDATE audit_events SET detail = replace(detail, 'app-c', 'app-x') WHERE id = 3")
        #expect(try await verify(db).firstBreak?.eventID == 3)
    }

    @Test func aDeletedEventIsNamed() async throws {
        let db = try await populated()
        try tamper(db, "DELETE FROM audit_events WHERE id = 2")
        let failure = try await verify(db).firstBreak
        #expect(failure?.eventID == 3)
        #expect(failure?.reason.contains("missing") == true)
    }

    @Test func reorderedEventsAreCaught() async throws {
        let db = try await populated()
        try tamper(
            db,
            """
            UPDATE audit_events SET id = -1 WHERE id = 2;
            UPDATE audit_events SET id = 2 WHERE id = 3;
            UPDATE audit_events SET id = 3 WHERE id = -1;
            """)
        #expect(try await verify(db).firstBreak?.eventID == 2)
    }

    @Test func aTruncatedTailIsCaught() async throws {
        let db = try await populated()
        try tamper(db, "DELETE FROM audit_events WHERE id >= 4")
        let failure = try await verify(db).firstBreak
        #expect(failure?.reason.contains("truncated") == true, "\(String(describing: failure))")
    }

    @Test func aTailTruncatedTogetherWithItsHeadIsCaught() async throws {
        let db = try await populated()
        try tamper(
            db,
            "DELETE FROM audit_events WHERE id >= 4; UPDATE audit_head SET last_id = 3, last_hash = (SELECT hash FROM audit_events WHERE id = 3)"
        )
        #expect(try await verify(db).firstBreak?.reason.contains("altered") == true)
    }

    @Test func anInsertedEventIsCaught() async throws {
        let db = try await populated()
        // A forged event appended with a correct hash, but outside Rotor: the head checkpoint does not know it.
        let last = try #require(try await db.store.read { try $0.auditEvents(ids: 5...5) }.first)
        let forged = AuditChain.next(
            AuditDraft(.secretRevealed, app: "a"),
            after: AuditHead(lastID: 5, lastHash: last.hash, baseID: 0, baseHash: AuditChain.genesis, mac: ""),
            time: Date(), actor: "mallory@host")
        try db.store.withConnection { conn in
            try conn.execute(
                sql:
                    "INSERT INTO audit_events (id, time, actor, action, outcome, app, rotation_id, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                arguments: [
                    forged.id, forged.time, forged.actor, forged.action, forged.outcome, forged.app, forged.rotationID,
                    forged.detail, forged.prevHash, forged.hash,
                ])
        }
        #expect(try await verify(db).firstBreak?.reason.contains("outside Rotor") == true)
    }

    @Test func canonicalJSONMatchesPython() throws {
        let value: JSONValue = [
            "z": "tab\there \"quoted\" back\\slash é ✓ \u{1}", "a": [1, true, nil, ["k": -5]], "M": "slash/ok",
        ]
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = [
            "python3", "-c",
            "import json,sys; v=json.load(sys.stdin); sys.stdout.write(json.dumps(v, sort_keys=True, separators=(',',':'), ensure_ascii=False))",
        ]
        let input = Pipe()
        let output = Pipe()
        python.standardInput = input
        python.standardOutput = output
        try python.run()
        input.fileHandleForWriting.write(Data(value.canonical.utf8))
        try input.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        python.waitUntilExit()
        #expect(text == value.canonical)
        #expect(JSONValue.parse(value.canonical) == value)
    }
}
