import Foundation
import RotorCore
import RotorSQL
import RotorTesting
import Synchronization
import Testing

@testable import RotorPostgres

/// Group commit on PostgreSQL: the bodies queued behind a transaction share
/// the next one; a body that throws (its own error, or a statement the
/// server refused) is undone alone, and the others are run again without
/// it and committed once each; the audit chain stays whole.
struct PostgresGroupCommitTests {
    /// `count` bodies queued while the store's thread is held, then let go
    /// together; each records an event for `appN` and counts its runs.
    func queuedCommits(
        _ ledger: Ledger, _ store: PostgresStore, count: Int, failing: [Int: Failure]
    ) async throws -> (results: [Result<Void, any Error>], runs: [Int]) {
        let runs = Runs(count)
        let gate = await hold(store.batched.worker)
        let results = try await withThrowingTaskGroup(of: (Int, Result<Void, any Error>).self) { group in
            for index in 0..<count {
                group.addTask {
                    let result = await Result {
                        try await ledger.commit { tx in
                            runs.counts.withLock { $0[index] += 1 }
                            try tx.record(AuditDraft(.appUpdated, app: "app\(index)", detail: [:]))
                            switch failing[index] {
                            case .body?: throw RotorError(.invalidInput, "body \(index) fails")
                            case .statement?:
                                // NOT NULL: the server refuses it and the transaction is aborted.
                                try (tx.store as? any SQLTransaction)?.execute(
                                    sql: "INSERT INTO meta (key, value) VALUES ('refused', NULL)")
                            case nil: break
                            }
                        }
                    }
                    return (index, result)
                }
            }
            while store.batched.waiting < count { try await Task.sleep(for: .milliseconds(5)) }
            gate.signal()
            var results = [Result<Void, any Error>](repeating: .success(()), count: count)
            for try await (index, result) in group { results[index] = result }
            return results
        }
        return (results, runs.counts.withLock { $0 })
    }

    enum Failure {
        case body, statement
    }

    final class Runs: Sendable {
        let counts: Mutex<[Int]>
        init(_ count: Int) { counts = Mutex([Int](repeating: 0, count: count)) }
    }

    @Test func aBodyThatThrowsIsUndoneAloneAndTheOthersCommitOnce() async throws {
        let database = try await SharedPostgres.shared.database()
        let key = TemporaryDirectory("rotor-pg-group")
        let store = try await PostgresStore.open(try PostgresLocation(url: database.url, environment: [:]))
        let ledger = try await Ledger.initialize(
            store: store, key: .file(key.file("rotor.key")), clock: SystemClock(), actor: "test"
        ).ledger
        let before = try await ledger.read { try $0.auditHead()?.lastID ?? 0 }

        let (results, runs) = try await queuedCommits(
            ledger, store, count: 6, failing: [1: .body, 4: .statement])
        for (index, result) in results.enumerated() {
            if [1, 4].contains(index) {
                #expect(throws: (any Error).self) { try result.get() }
            } else {
                #expect((try? result.get()) != nil, "body \(index): \(result)")
            }
        }
        // A refused statement is one line from the database, without the statement's values.
        let refused = try #require(results.count == 6 ? results[4] : nil)
        if case .failure(let error) = refused {
            #expect("\(error)".contains("null value"), "\(error)")
        }
        // The bodies before a failing one ran again in the next transaction.
        #expect(runs == [3, 1, 2, 2, 1, 1], "\(runs)")
        let events = try await ledger.read { reader in
            try reader.auditEvents(ids: (before + 1)...(before + 20))
        }
        #expect(events.compactMap(\.app) == ["app0", "app2", "app3", "app5"])
        #expect(try await AuditLog(ledger: ledger).verify().isIntact)

        // The next commits go on from the same head.
        try await ledger.commit { try $0.record(AuditDraft(.appUpdated, app: "after", detail: [:])) }
        #expect(try await ledger.read { try $0.auditHead()?.lastID } == before + 5)
        #expect(try await AuditLog(ledger: ledger).verify().isIntact)
        try await store.close()
    }
}
