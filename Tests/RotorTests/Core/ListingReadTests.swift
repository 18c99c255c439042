import Foundation
import GRDB
import RotorCore
import RotorSQLite
import RotorTesting
import Testing

/// The reads behind listings and the scheduler's pass, which must stay
/// cheap with 100,000 apps: one row at a time, no secrets, only what is unsettled.
struct ListingReadTests {
    @Test func schedulableAppsAreReadWithTheirPairsAge() async throws {
        let db = try await TestDatabase()
        try await db.addApp("b-every", schedule: .every(seconds: 3600))
        try await db.addApp("a-none")
        try await db.addApp("c-disabled", schedule: .every(seconds: 3600))
        var disable = AppChanges()
        disable.enabled = false
        try await db.registry.set("c-disabled", disable, verify: false)
        let now = db.clock.now
        let (all, schedulable) = try await db.ledger.read { reader in
            var all: [String] = []
            var schedulable: [String] = []
            try reader.forEachApp(schedulable: false) { app, created in
                all.append(app.name)
                #expect(created == now)
            }
            try reader.forEachApp(schedulable: true) { app, _ in schedulable.append(app.name) }
            return (all, schedulable)
        }
        #expect(all == ["a-none", "b-every", "c-disabled"])
        #expect(schedulable == ["b-every"])
        // Listings never carry a secret, sealed or not.
        let credentials = try await db.ledger.read { try $0.currentCredentials() }
        #expect(credentials.count == 3)
        #expect(credentials.values.allSatisfy { $0.sealedSecret == nil && !$0.fingerprint.isEmpty })
    }

    @Test func onlyTargetsLackingTheCurrentVersionAreUnsettled() async throws {
        let db = try await TestDatabase()
        let app = try await db.addApp("billing")
        let targets = TargetRegistry(ledger: db.ledger)
        let delivered = try await targets.add(app: "billing", .exec(ExecTarget(command: "true")))
        let failing = try await targets.add(app: "billing", .exec(ExecTarget(command: "false")))
        let fresh = try await targets.add(app: "billing", .exec(ExecTarget(command: "true; true")))
        try await db.ledger.commit { tx in
            try tx.store.saveDelivery(
                DeliveryRecord(targetID: delivered.id, version: app.currentVersion, rotationID: nil, state: .succeeded))
            try tx.store.saveDelivery(
                DeliveryRecord(
                    targetID: failing.id, version: app.currentVersion, rotationID: nil, state: .failed, attempts: 2))
        }
        let unsettled = try await db.ledger.read { try $0.unsettledTargets() }
        let mine = try #require(unsettled[app.id])
        #expect(mine.map(\.targetID) == [failing.id, fresh.id])
        #expect(mine.map { $0.delivery?.state } == [.failed, nil])
    }
}
