import Foundation
import RotorCore
import RotorTesting
import Testing

@testable import RotorSQLite

/// Durability of commits: a synchronous write syncs the WAL before it
/// returns; concurrent async commits wait for, and share, one sync.
struct GroupCommitTests {
    @Test func aSynchronousWriteSyncsBeforeItReturns() throws {
        let db = try TestDatabase()
        let before = db.store.syncCount
        try db.ledger.write { try $0.record(AuditDraft(.appUpdated, app: "billing", detail: [:])) }
        #expect(db.store.syncCount == before + 1)
        try db.ledger.writeUnsynced { try $0.record(AuditDraft(.appUpdated, app: "billing", detail: [:])) }
        #expect(db.store.syncCount == before + 1)
    }

    @Test func concurrentCommitsReturnOnlyAfterOneSharedSync() async throws {
        let db = try TestDatabase()
        let before = db.store.syncCount
        let eventsBefore = try db.ledger.read { try $0.auditHead()?.lastID ?? 0 }
        // Hold the sync worker: every commit below must wait behind it.
        let gate = DispatchSemaphore(value: 0)
        db.store.wal.worker.async { gate.wait() }
        let returned = Counter()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<20 {
                group.addTask {
                    try await db.ledger.commit {
                        try $0.record(AuditDraft(.appUpdated, app: "app\(index)", detail: [:]))
                    }
                    returned.increment()
                }
            }
            while db.store.wal.waiting < 20 { try await Task.sleep(for: .milliseconds(5)) }
            // All 20 are committed (visible) but none has returned: none is known durable.
            #expect(try db.ledger.read { try $0.auditHead()?.lastID ?? 0 } == eventsBefore + 20)
            #expect(returned.value == 0)
            #expect(db.store.syncCount == before)
            gate.signal()
            try await group.waitForAll()
        }
        #expect(returned.value == 20)
        #expect(db.store.syncCount == before + 1)
    }
}
