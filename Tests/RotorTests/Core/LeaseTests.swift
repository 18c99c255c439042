import Foundation
import GRDB
import RotorCore
import RotorSQLite
import RotorTesting
import Testing

/// Leases: an owner, an expiry, a heartbeat that extends it while held, and
/// a fencing token that changes hands only after expiry.
struct LeaseTests {
    @Test func theHeartbeatExtendsAHeldLeaseAndNeverTakesItBack() async throws {
        let db = try await TestDatabase()
        let held = try #require(try await db.ledger.acquireLease("app:1", owner: "a", duration: 0.3))
        let first = try #require(try await db.ledger.read { try $0.lease("app:1") })
        // The beats come every 100 ms; each extends the expiry from the clock's now.
        db.clock.advance(by: 60)
        // Stored in milliseconds; a busy machine may delay a beat, so wait up to 30 s.
        let expected = db.clock.now.addingTimeInterval(0.3)
        var renewed = first
        let deadline = ContinuousClock.now + .seconds(30)
        while abs(renewed.expiresAt.timeIntervalSince(expected)) > 0.002, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            renewed = try #require(try await db.ledger.read { try $0.lease("app:1") })
        }
        #expect(abs(renewed.expiresAt.timeIntervalSince(expected)) <= 0.002)
        #expect(renewed.owner == "a" && renewed.token == first.token)
        // Another owner cannot take it while it is held.
        #expect(try await db.ledger.takeLease("app:1", owner: "b", duration: 60) == nil)

        await db.ledger.releaseLease(held) { _ in }
        #expect(try await db.ledger.read { try $0.lease("app:1") } == nil)
        // A late beat finds it released and leaves it so.
        #expect(try await !db.ledger.renewLease(held.lease, duration: 60))
        #expect(try await db.ledger.read { try $0.lease("app:1") } == nil)

        // Once another owner has it, the old holder's beat does not touch it.
        _ = try #require(try await db.ledger.takeLease("app:1", owner: "b", duration: 60))
        #expect(try await !db.ledger.renewLease(held.lease, duration: 60))
        #expect(try await db.ledger.read { try $0.lease("app:1") }?.owner == "b")
    }

    @Test func anExpiredLeaseIsTakenOverUnderANewFencingToken() async throws {
        let db = try await TestDatabase()
        let first = try #require(try await db.ledger.takeLease("app:1", owner: "a", duration: 10))
        db.clock.advance(by: 5)
        #expect(try await db.ledger.takeLease("app:1", owner: "b", duration: 10) == nil)
        db.clock.advance(by: 6)
        let second = try #require(try await db.ledger.takeLease("app:1", owner: "b", duration: 10))
        #expect(second.token > first.token)
        // The first holder's fenced writes and beats now fail.
        await #expect(throws: RotorError.self) { try await db.ledger.commit { try $0.fence(first) } }
        #expect(try await !db.ledger.renewLease(first, duration: 10))
    }
}
