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

    @Test func aFreshDatabaseHasEverythingApplied() throws {
        let db = try TestDatabase()
        #expect(try db.store.pendingMigrations().isEmpty)
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

    @Test func aNewerSchemaIsRefused() throws {
        let db = try TestDatabase()
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

struct RegistryTests {
    @Test func addListShowSetRemove() async throws {
        let db = try TestDatabase()
        try await db.addApp("billing", secret: "first", schedule: .every(seconds: 86400))
        var list = try db.registry.list()
        try #require(list.map(\.app.name) == ["billing"])
        #expect(list[0].nextDue == db.clock.now.addingTimeInterval(86400))
        #expect(list[0].credential.fingerprint == db.ledger.keyring.fingerprint(Secret("first")))

        db.clock.advance(by: 3600)
        var changes = AppChanges()
        changes.pair = ("client-2", Secret("second"))
        changes.enabled = false
        try await db.registry.set("billing", changes, verify: false)
        list = try db.registry.list()
        try #require(list.count == 1)
        #expect(list[0].credential.version == 2)
        #expect(list[0].credential.clientID == "client-2")
        #expect(list[0].nextDue == nil)
        #expect(try db.registry.reveal("billing").clientSecret.reveal() == "second")

        try db.registry.remove("billing")
        #expect(try db.registry.list().isEmpty)
        let secrets = try db.store.withConnection { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM credentials") }
        #expect(secrets == 0)
        let actions = try db.store.read { try $0.auditEvents(ids: 1...10) }.map(\.action)
        #expect(actions == ["app.added", "app.updated", "secret.revealed", "app.removed"])
    }

    @Test func duplicatesAndUnknownNamesAreRefused() async throws {
        let db = try TestDatabase()
        try await db.addApp("billing")
        await #expect(throws: RotorError.self) { try await db.addApp("billing") }
        #expect(throws: RotorError.self) { try db.registry.show("nope") }
        await #expect(throws: RotorError.self) {
            try await db.registry.add(
                AppSpec(name: "x", applicationID: "a", clientID: "c", clientSecret: Secret("s"), identity: "ghost"),
                verify: false)
        }
    }

    @Test func verificationIsRefusedWithoutAVendorClient() async throws {
        let db = try TestDatabase()
        await #expect(throws: RotorError.self) {
            try await db.registry.add(
                AppSpec(name: "x", applicationID: "a", clientID: "c", clientSecret: Secret("s")), verify: true)
        }
        #expect(try db.registry.list().isEmpty)
    }

    @Test func aStoredSecretCopiedToAnotherRowDoesNotOpen() async throws {
        let db = try TestDatabase()
        try await db.addApp("a", secret: "secret-a")
        try await db.addApp("b", secret: "secret-b")
        try db.store.withConnection {
            try $0.execute(
                sql:
                    "UPDATE credentials SET client_secret = (SELECT client_secret FROM credentials c JOIN apps a ON a.id = c.app_id WHERE a.name = 'a') WHERE app_id = (SELECT id FROM apps WHERE name = 'b')"
            )
        }
        #expect(try db.registry.reveal("a").clientSecret.reveal() == "secret-a")
        #expect(throws: RotorError.self) { try db.registry.reveal("b") }
    }
}

struct KeyRotationTests {
    @Test func everySecretIsResealedAndFingerprintsStay() async throws {
        let db = try TestDatabase()
        for index in 0..<5 { try await db.addApp("app\(index)", secret: "secret-\(index)") }
        let before = try db.registry.list().map(\.credential.fingerprint)
        let result = try KeyRotation.rotate(ledger: db.ledger, keyFile: db.keyFile)
        #expect(result.resealed == 6)  // five secrets and the derivation root
        #expect(!FileManager.default.fileExists(atPath: db.keyFile + ".old"))

        var notices: [String] = []
        let reopened = try Ledger.open(
            store: db.store, key: .file(db.keyFile), clock: db.clock, actor: "t", notices: &notices)
        let registry = AppRegistry(ledger: reopened, checker: nil)
        #expect(try registry.list().map(\.credential.fingerprint) == before)
        for index in 0..<5 {
            #expect(try registry.reveal("app\(index)").clientSecret.reveal() == "secret-\(index)")
        }
        #expect(try AuditLog(ledger: reopened).verify().isIntact)
        // The process still holding the old key may no longer write.
        await #expect(throws: RotorError.self) { try await db.addApp("late") }
    }
}

/// Leases: an owner, an expiry, a heartbeat that extends it while held, and
/// a fencing token that changes hands only after expiry.
struct LeaseTests {
    @Test func theHeartbeatExtendsAHeldLeaseAndNeverTakesItBack() async throws {
        let db = try TestDatabase()
        let held = try #require(try await db.ledger.acquireLease("app:1", owner: "a", duration: 0.3))
        let first = try #require(try db.ledger.read { try $0.lease("app:1") })
        // The beats come every 100 ms; each extends the expiry from the clock's now.
        db.clock.advance(by: 60)
        // Stored in milliseconds; a busy machine may delay a beat, so wait up to 30 s.
        let expected = db.clock.now.addingTimeInterval(0.3)
        var renewed = first
        let deadline = ContinuousClock.now + .seconds(30)
        while abs(renewed.expiresAt.timeIntervalSince(expected)) > 0.002, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            renewed = try #require(try db.ledger.read { try $0.lease("app:1") })
        }
        #expect(abs(renewed.expiresAt.timeIntervalSince(expected)) <= 0.002)
        #expect(renewed.owner == "a" && renewed.token == first.token)
        // Another owner cannot take it while it is held.
        #expect(try await db.ledger.takeLease("app:1", owner: "b", duration: 60) == nil)

        await db.ledger.releaseLease(held) { _ in }
        #expect(try db.ledger.read { try $0.lease("app:1") } == nil)
        // A late beat finds it released and leaves it so.
        #expect(try await !db.ledger.renewLease(held.lease, duration: 60))
        #expect(try db.ledger.read { try $0.lease("app:1") } == nil)

        // Once another owner has it, the old holder's beat does not touch it.
        _ = try #require(try await db.ledger.takeLease("app:1", owner: "b", duration: 60))
        #expect(try await !db.ledger.renewLease(held.lease, duration: 60))
        #expect(try db.ledger.read { try $0.lease("app:1") }?.owner == "b")
    }

    @Test func anExpiredLeaseIsTakenOverUnderANewFencingToken() async throws {
        let db = try TestDatabase()
        let first = try #require(try await db.ledger.takeLease("app:1", owner: "a", duration: 10))
        db.clock.advance(by: 5)
        #expect(try await db.ledger.takeLease("app:1", owner: "b", duration: 10) == nil)
        db.clock.advance(by: 6)
        let second = try #require(try await db.ledger.takeLease("app:1", owner: "b", duration: 10))
        #expect(second.token > first.token)
        // The first holder's fenced writes and beats now fail.
        #expect(throws: RotorError.self) { try db.ledger.write { try $0.fence(first) } }
        #expect(try await !db.ledger.renewLease(first, duration: 10))
    }
}

/// The reads behind listings and the scheduler's pass, which must stay
/// cheap with 100,000 apps: one row at a time, no secrets, only what is unsettled.
struct ListingReadTests {
    @Test func schedulableAppsAreReadWithTheirPairsAge() async throws {
        let db = try TestDatabase()
        try await db.addApp("b-every", schedule: .every(seconds: 3600))
        try await db.addApp("a-none")
        try await db.addApp("c-disabled", schedule: .every(seconds: 3600))
        var disable = AppChanges()
        disable.enabled = false
        try await db.registry.set("c-disabled", disable, verify: false)
        var all: [String] = []
        var schedulable: [String] = []
        try db.ledger.read { reader in
            try reader.forEachApp(schedulable: false) { app, created in
                all.append(app.name)
                #expect(created == db.clock.now)
            }
            try reader.forEachApp(schedulable: true) { app, _ in schedulable.append(app.name) }
        }
        #expect(all == ["a-none", "b-every", "c-disabled"])
        #expect(schedulable == ["b-every"])
        // Listings never carry a secret, sealed or not.
        let credentials = try db.ledger.read { try $0.currentCredentials() }
        #expect(credentials.count == 3)
        #expect(credentials.values.allSatisfy { $0.sealedSecret == nil && !$0.fingerprint.isEmpty })
    }

    @Test func onlyTargetsLackingTheCurrentVersionAreUnsettled() async throws {
        let db = try TestDatabase()
        let app = try await db.addApp("billing")
        let targets = TargetRegistry(ledger: db.ledger)
        let delivered = try targets.add(app: "billing", .exec(ExecTarget(command: "true")))
        let failing = try targets.add(app: "billing", .exec(ExecTarget(command: "false")))
        let fresh = try targets.add(app: "billing", .exec(ExecTarget(command: "true")))
        try db.ledger.write { tx in
            try tx.store.saveDelivery(
                DeliveryRecord(targetID: delivered.id, version: app.currentVersion, rotationID: nil, state: .succeeded))
            try tx.store.saveDelivery(
                DeliveryRecord(
                    targetID: failing.id, version: app.currentVersion, rotationID: nil, state: .failed, attempts: 2))
        }
        let unsettled = try db.ledger.read { try $0.unsettledTargets() }
        let mine = try #require(unsettled[app.id])
        #expect(mine.map(\.targetID) == [failing.id, fresh.id])
        #expect(mine.map { $0.delivery?.state } == [.failed, nil])
    }
}
