import Foundation
import GRDB
import RotorCore
import RotorSQLite
import RotorTesting
import Testing

struct RegistryTests {
    @Test func addListShowSetRemove() async throws {
        let db = try await TestDatabase()
        try await db.addApp("billing", secret: "first", schedule: .every(seconds: 86400))
        var list = try await db.registry.list()
        try #require(list.map(\.app.name) == ["billing"])
        #expect(list[0].nextDue == db.clock.now.addingTimeInterval(86400))
        #expect(list[0].credential.fingerprint == db.ledger.keyring.fingerprint(Secret("first")))

        db.clock.advance(by: 3600)
        var changes = AppChanges()
        changes.pair = ClientPair(clientID: "client-2", secret: Secret("second"))
        changes.enabled = false
        try await db.registry.set("billing", changes, verify: false)
        list = try await db.registry.list()
        try #require(list.count == 1)
        #expect(list[0].credential.version == 2)
        #expect(list[0].credential.clientID == "client-2")
        #expect(list[0].nextDue == nil)
        #expect(try await db.registry.reveal("billing").clientSecret.reveal() == "second")

        try await db.registry.remove("billing")
        #expect(try await db.registry.list().isEmpty)
        let secrets = try db.store.withConnection { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM credentials") }
        #expect(secrets == 0)
        let actions = try await db.store.read { try $0.auditEvents(ids: 1...10) }.map(\.action)
        #expect(actions == ["app.added", "app.updated", "secret.revealed", "app.removed"])
    }

    @Test func duplicatesAndUnknownNamesAreRefused() async throws {
        let db = try await TestDatabase()
        try await db.addApp("billing")
        await #expect(throws: RotorError.self) { try await db.addApp("billing") }
        await #expect(throws: RotorError.self) { try await db.registry.show("nope") }
        await #expect(throws: RotorError.self) {
            try await db.registry.add(
                AppSpec(name: "x", applicationID: "a", clientID: "c", clientSecret: Secret("s"), identity: "ghost"),
                verify: false)
        }
    }

    @Test func verificationIsRefusedWithoutAVendorClient() async throws {
        let db = try await TestDatabase()
        await #expect(throws: RotorError.self) {
            try await db.registry.add(
                AppSpec(name: "x", applicationID: "a", clientID: "c", clientSecret: Secret("s")), verify: true)
        }
        #expect(try await db.registry.list().isEmpty)
    }

    @Test func aStoredSecretCopiedToAnotherRowDoesNotOpen() async throws {
        let db = try await TestDatabase()
        try await db.addApp("a", secret: "secret-a")
        try await db.addApp("b", secret: "secret-b")
        try db.store.withConnection {
            try $0.execute(
                sql:
                    "UPDATE credentials SET client_secret = (SELECT client_secret FROM credentials c JOIN apps a ON a.id = c.app_id WHERE a.name = 'a') WHERE app_id = (SELECT id FROM apps WHERE name = 'b')"
            )
        }
        #expect(try await db.registry.reveal("a").clientSecret.reveal() == "secret-a")
        await #expect(throws: RotorError.self) { try await db.registry.reveal("b") }
    }
}
