import Foundation
import RotorCore
import RotorTesting
import Testing

@testable import RotorSQLite

/// Durability and atomicity of commits: a durable commit syncs the WAL
/// before it returns; concurrent commits share one transaction and one
/// sync, each body atomic on its own, and none returns before both are done.
struct GroupCommitTests {
    @Test func aDurableCommitSyncsBeforeItReturns() async throws {
        let db = try await TestDatabase()
        let before = db.store.syncCount
        try await db.ledger.commit { try $0.record(AuditDraft(.appUpdated, app: "billing", detail: [:])) }
        #expect(db.store.syncCount == before + 1)
        try await db.store.commit(durable: false) { try $0.setMeta(.createdAt, "2026-11-29T00:00:00Z") }
        #expect(db.store.syncCount == before + 1)
    }

    /// Holds the commit worker while `count` commits queue up behind it.
    /// `durable` says which of them wait for the disk.
    func queuedCommits(
        _ db: TestDatabase, count: Int, failing: Set<Int> = [],
        durable: @escaping @Sendable (Int) -> Bool = { _ in true },
        whileHeld: () async throws -> Void = {}
    ) async throws -> [Result<Void, any Error>] {
        let gate = await hold(db.store.group.worker)
        return try await withThrowingTaskGroup(of: (Int, Result<Void, any Error>).self) { group in
            for index in 0..<count {
                group.addTask {
                    let result = await Result {
                        try await db.ledger.commit(durable: durable(index)) { tx in
                            try tx.record(AuditDraft(.appUpdated, app: "app\(index)", detail: [:]))
                            if failing.contains(index) { throw RotorError(.invalidInput, "body \(index) fails") }
                        }
                    }
                    return (index, result)
                }
            }
            while db.store.group.waiting < count { try await Task.sleep(for: .milliseconds(5)) }
            try await whileHeld()
            gate.signal()
            var results = [Result<Void, any Error>](repeating: .success(()), count: count)
            for try await (index, result) in group { results[index] = result }
            return results
        }
    }

    @Test func concurrentCommitsShareOneTransactionAndOneSync() async throws {
        let db = try await TestDatabase()
        let syncs = db.store.syncCount
        let batches = db.store.groupCommitCount
        let eventsBefore = try await db.ledger.read { try $0.auditHead()?.lastID ?? 0 }
        let results = try await queuedCommits(
            db, count: 20,
            whileHeld: {
                // Queued, not yet committed: nothing of them is visible.
                let visible = try await db.ledger.read { try $0.auditHead()?.lastID ?? 0 }
                #expect(visible == eventsBefore)
            })
        #expect(results.allSatisfy { (try? $0.get()) != nil })
        #expect(try await db.ledger.read { try $0.auditHead()?.lastID ?? 0 } == eventsBefore + 20)
        #expect(db.store.groupCommitCount == batches + 1)
        #expect(db.store.syncCount == syncs + 1)
        #expect(try await AuditLog(ledger: db.ledger).verify().isIntact)
    }

    @Test func aFailingBodyIsRolledBackAloneAndOthersCommit() async throws {
        let db = try await TestDatabase()
        let eventsBefore = try await db.ledger.read { try $0.auditHead()?.lastID ?? 0 }
        let results = try await queuedCommits(db, count: 5, failing: [1, 3])
        for (index, result) in results.enumerated() {
            if [1, 3].contains(index) {
                #expect(throws: RotorError.self) { try result.get() }
            } else {
                #expect((try? result.get()) != nil)
            }
        }
        let apps = try await db.ledger.read { reader in
            try reader.auditEvents(ids: (eventsBefore + 1)...(eventsBefore + 10)).compactMap(\.app)
        }
        #expect(Set(apps) == ["app0", "app2", "app4"])
        #expect(try await AuditLog(ledger: db.ledger).verify().isIntact)
    }
}

extension GroupCommitTests {
    /// A commit that does not wait is not synced; the next durable commit,
    /// even one that changes nothing, syncs it (and only then).
    @Test func aCommitThatDoesNotWaitIsMadeDurableByTheNextDurableOne() async throws {
        let db = try await TestDatabase()
        let syncs = db.store.syncCount
        let before = try await db.ledger.read { try $0.auditHead()?.lastID ?? 0 }
        try await db.ledger.commit(durable: false) { try $0.record(AuditDraft(.appUpdated, app: "a", detail: [:])) }
        _ = try await db.ledger.read { try $0.auditHead()?.lastID }
        #expect(db.store.syncCount == syncs)
        // Committed and visible, though not yet on disk.
        #expect(try await db.ledger.read { try $0.auditHead()?.lastID ?? 0 } == before + 1)
        try await db.ledger.flush()
        #expect(db.store.syncCount == syncs + 1)
        try await db.ledger.flush()
        #expect(db.store.syncCount == syncs + 1)
        try await db.store.commit(durable: false) { try $0.setMeta(.createdAt, "2026-11-29T00:00:00Z") }
        try await db.ledger.commit { _ in }
        #expect(db.store.syncCount == syncs + 2)
    }

    /// A batch syncs once if any of its commits waits for the disk, and not
    /// at all if none does.
    @Test func aBatchSyncsOnlyForTheCommitsThatWait() async throws {
        let db = try await TestDatabase()
        let syncs = db.store.syncCount
        let lazy = try await queuedCommits(db, count: 8, durable: { _ in false })
        #expect(lazy.allSatisfy { (try? $0.get()) != nil })
        #expect(db.store.syncCount == syncs)
        let mixed = try await queuedCommits(db, count: 8, durable: { $0 == 5 })
        #expect(mixed.allSatisfy { (try? $0.get()) != nil })
        #expect(db.store.syncCount == syncs + 1)
        #expect(try await AuditLog(ledger: db.ledger).verify().isIntact)
    }
}

extension GroupCommitTests {
    /// While an fsync is held back, its durable caller waits, and a commit
    /// that does not wait for the disk goes through (as do later batches).
    /// (Were it held, the test would wait for the gate: the time limit fails it.)
    @Test(.timeLimit(.minutes(1))) func aCommitThatDoesNotWaitIsNotHeldBehindAnFsync() async throws {
        let db = try await TestDatabase()
        let gate = DispatchSemaphore(value: 0)
        db.store.wal.willSync = { gate.wait() }
        defer { db.store.wal.willSync = nil }
        let durable = Task {
            _ = try await db.ledger.commit { try $0.record(AuditDraft(.appUpdated, app: "durable", detail: [:])) }
        }
        // The durable commit is committed (visible), its fsync held.
        while try await db.ledger.read({ try $0.auditHead()?.lastID ?? 0 }) == 0 {
            try await Task.sleep(for: .milliseconds(5))
        }
        try await db.ledger.commit(durable: false) {
            try $0.record(AuditDraft(.appUpdated, app: "lazy", detail: [:]))
        }
        #expect(try await db.ledger.read { try $0.auditHead()?.lastID } == 2)
        gate.signal()
        try await durable.value
        db.store.wal.willSync = nil
        #expect(try await AuditLog(ledger: db.ledger).verify().isIntact)
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}
