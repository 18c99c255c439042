import Foundation
import RotorCore
import RotorTesting
import Testing

struct DeliveryOrderTests {
    @Test func aTargetNeverReceivesAnOlderVersionAfterANewerOne() async throws {
        let db = try await TestDatabase()
        try await db.addApp("billing", secret: "first")
        var changes = AppChanges()
        changes.pair = ClientPair(clientID: "client-2", secret: Secret("second"))
        try await db.registry.set("billing", changes, verify: false)
        let path = db.directory.file("creds.env")
        try await TargetRegistry(ledger: db.ledger).add(app: "billing", .file(FileTarget(path: path)))
        let service = DeliveryService(ledger: db.ledger)
        let app = try #require(try await db.registry.list().first).app
        guard let held = try await db.ledger.acquireLease(Lease.app(app.id), owner: "test", duration: 60) else {
            Issue.record("no lease")
            return
        }
        let newer = try await service.deliverAll(
            appID: app.id, version: 2, rotationID: nil, lease: held.lease, force: false)
        #expect(newer.map(\.state) == [.succeeded])
        let older = try await service.deliverAll(
            appID: app.id, version: 1, rotationID: nil, lease: held.lease, force: true)
        #expect(older.map(\.state) == [.superseded])
        #expect(String(decoding: try db.directory.read("creds.env"), as: UTF8.self).contains("second"))
        await db.ledger.releaseLease(held)
    }
}
