import Foundation

/// The queue behind group commit, shared by the SQL backends: the bodies
/// that concurrent callers submit while one batch is being committed are
/// taken together into the next, on one worker thread, in the order they
/// were submitted. How a batch is committed (one transaction, a savepoint
/// a body, when each caller is resumed) is the backend's `commit`.
public final class CommitBatches<Context>: @unchecked Sendable {
    /// One submitted body and what resumes its caller.
    public struct Job {
        public var run: (Context) throws -> Void
        /// Resumes the caller with its body's result (or the batch's failure).
        public var finish: (Result<Void, any Error>) -> Void
        /// The caller waits for the disk.
        public var durable: Bool
    }

    /// Runs the batches, one at a time.
    public let worker: DispatchQueue
    private let commit: ([Job]) -> Void
    private let lock = NSLock()
    private var pending: [Job] = []
    private var draining = false

    /// `commit` runs on `worker` with each batch and must finish every job of it.
    public init(worker: DispatchQueue, commit: @escaping ([Job]) -> Void) {
        self.worker = worker
        self.commit = commit
    }

    /// Bodies submitted and not yet taken into a batch.
    public var waiting: Int { lock.withLock { pending.count } }

    public func submit<T: Sendable>(durable: Bool, _ body: @escaping @Sendable (Context) throws -> T) async throws
        -> T
    {
        let slot = Slot<T>()
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let job = Job(
                run: { context in slot.value = try body(context) },
                finish: { result in
                    switch result {
                    case .success: continuation.resume(returning: slot.value!)
                    case .failure(let error): continuation.resume(throwing: error)
                    }
                }, durable: durable)
            let start: Bool = lock.withLock {
                pending.append(job)
                if draining { return false }
                draining = true
                return true
            }
            if start { worker.async { self.drain() } }
        }
    }

    private func drain() {
        while true {
            let jobs: [Job] = lock.withLock {
                let jobs = pending
                pending = []
                if jobs.isEmpty { draining = false }
                return jobs
            }
            if jobs.isEmpty { return }
            commit(jobs)
        }
    }
}

/// Where a job leaves its result for its caller; written on the worker
/// before the job is finished, read when the caller resumes.
private final class Slot<T>: @unchecked Sendable {
    var value: T?
}
