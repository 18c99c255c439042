import Foundation
import GRDB
import RotorCore
import RotorSQL

/// Group commit: the write transactions that concurrent callers submit
/// while one is being committed share the next SQLite transaction and the
/// fsync after it.
///
/// Each caller's body runs inside its own savepoint, so it is atomic on its
/// own: a body that throws is rolled back alone and its caller gets the
/// error. The bodies run one after another, in the order they were
/// submitted, as if each had its own transaction.
///
/// A durable job's caller is resumed only after the shared commit and an
/// fsync of the WAL that began after it; if either fails, it gets the error
/// (nothing of it may be relied on). Other callers are resumed as soon as the
/// commit is done. The fsyncs run on a thread of their own, so the next batch
/// commits while the last one syncs, and callers that do not wait for the
/// disk never wait behind an fsync. A batch without a durable job is not
/// synced: its commits reach the disk with the next fsync, which covers the
/// whole WAL, so commits become durable in the order they were made.
final class GroupCommit: @unchecked Sendable {
    private typealias Job = CommitBatches<Database>.Job

    private let queue: DatabaseQueue
    private let wal: WALSync
    private let translate: @Sendable (any Error) -> any Error
    private let lock = NSLock()
    private var batches = 0
    /// Committed durable jobs waiting for an fsync, with their results.
    private var unsynced: [(Job, Result<Void, any Error>)] = []
    private var syncing = false
    /// The submitted bodies, taken in batches on a thread of their own.
    private var batched: CommitBatches<Database>!
    /// Runs the fsyncs, one at a time.
    private let syncer = DispatchQueue(label: "rotor.group-commit.sync")

    init(queue: DatabaseQueue, wal: WALSync, translate: @escaping @Sendable (any Error) -> any Error) {
        self.queue = queue
        self.wal = wal
        self.translate = translate
        batched = CommitBatches(worker: DispatchQueue(label: "rotor.group-commit")) { [unowned self] jobs in
            commitBatch(jobs)
        }
    }

    /// Runs the batches, one at a time.
    var worker: DispatchQueue { batched.worker }

    /// How many shared transactions have been committed (for tests).
    var batchCount: Int { lock.withLock { batches } }

    /// Bodies submitted and not yet taken into a batch.
    var waiting: Int { batched.waiting }

    func submit<T: Sendable>(durable: Bool, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await batched.submit(durable: durable, body)
    }

    /// Commits one batch in one transaction. On the worker.
    private func commitBatch(_ jobs: [Job]) {
        var results = [Result<Void, any Error>](repeating: .success(()), count: jobs.count)
        var resumed = [Bool](repeating: false, count: jobs.count)
        do {
            let changed = try queue.writeWithoutTransaction { db in
                let changesBefore = db.totalChangesCount
                try db.cachedStatement(sql: "BEGIN IMMEDIATE").execute()
                do {
                    for (index, job) in jobs.enumerated() {
                        try db.cachedStatement(sql: "SAVEPOINT job").execute()
                        do {
                            try job.run(db)
                            try db.cachedStatement(sql: "RELEASE job").execute()
                        } catch {
                            // SQLite ends the whole transaction on some errors (full disk, I/O):
                            // then nothing of the batch holds.
                            guard db.isInsideTransaction else { throw error }
                            try db.cachedStatement(sql: "ROLLBACK TO job").execute()
                            try db.cachedStatement(sql: "RELEASE job").execute()
                            results[index] = .failure(error)
                        }
                    }
                    try db.cachedStatement(sql: "COMMIT").execute()
                } catch {
                    if db.isInsideTransaction { try? db.cachedStatement(sql: "ROLLBACK").execute() }
                    throw error
                }
                return db.totalChangesCount != changesBefore
            }
            if changed { wal.noteUnsynced() }
            // A durable job whose body succeeded waits for the fsync, even in a
            // batch of reads: it may rely on what an earlier batch wrote.
            let waiting = jobs.indices.filter { jobs[$0].durable && (try? results[$0].get()) != nil }
            let startSync: Bool = lock.withLock {
                batches += 1
                unsynced += waiting.map { (jobs[$0], results[$0]) }
                if waiting.isEmpty || syncing { return false }
                syncing = true
                return true
            }
            for index in waiting { resumed[index] = true }
            if startSync { syncer.async { self.sync() } }
        } catch {
            let failure = translate(error)
            results = results.map { _ in .failure(failure) }
        }
        for index in jobs.indices where !resumed[index] {
            jobs[index].finish(results[index].mapError { translate($0) })
        }
    }

    /// Syncs the WAL for the durable jobs committed so far, then resumes
    /// them; again while more arrived meanwhile.
    private func sync() {
        while true {
            let waiting: [(Job, Result<Void, any Error>)] = lock.withLock {
                let waiting = unsynced
                unsynced = []
                if waiting.isEmpty { syncing = false }
                return waiting
            }
            if waiting.isEmpty { return }
            // Every job taken here committed before this fsync begins.
            let synced = Result { try wal.syncIfNeeded() }
            for (job, result) in waiting {
                job.finish(synced.flatMap { result }.mapError { translate($0) })
            }
        }
    }
}
