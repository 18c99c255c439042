import Crypto
import Foundation
import RotorCore
import RotorSQLite

/// A fresh, initialised database with its key in a temporary directory.
public struct TestDatabase: Sendable {
    public let directory: TemporaryDirectory
    public let store: SQLiteStore
    public let ledger: Ledger
    public let clock: InstantClock

    public var path: String { directory.file("rotor.db") }
    public var keyFile: String { directory.file("rotor.db.key") }

    public init(clock: InstantClock = InstantClock(), actor: String = "test@host", busyTimeout: TimeInterval = 15)
        async throws
    {
        directory = TemporaryDirectory()
        self.clock = clock
        store = try SQLiteStore.open(path: directory.file("rotor.db"), create: true, busyTimeout: busyTimeout)
        ledger = try await Ledger.initialize(
            store: store, key: .file(directory.file("rotor.db.key")), clock: clock, actor: actor
        ).ledger
    }

    public var registry: AppRegistry { AppRegistry(ledger: ledger, checker: nil) }

    /// Registers an app without asking the vendor.
    @discardableResult
    public func addApp(_ name: String, secret: String = "s3cret-\(UUID().uuidString)", schedule: Schedule = .none)
        async throws -> AppRecord
    {
        try await registry.add(
            AppSpec(
                name: name, applicationID: "app-\(name)", clientID: "client-\(name)", clientSecret: Secret(secret),
                schedule: schedule),
            verify: false)
    }
}

/// SHA-256 of a file's bytes, hex; nil if it does not exist.
public func fileDigest(_ path: String) -> String? {
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    return Hex.encode(Array(data).sha256())
}

extension Array where Element == UInt8 {
    func sha256() -> [UInt8] { Array(SHA256.hash(data: self)) }
}

/// The database's write lock, held from another connection as another
/// process would hold it, on a thread of its own (so the concurrency pool,
/// and the code under test, keep running) until ``release()``.
public final class HeldWriteLock: Sendable {
    private let released = DispatchSemaphore(value: 0)
    private let ended = DispatchSemaphore(value: 0)

    /// Returns once the lock is held.
    public static func take(on path: String) async throws -> HeldWriteLock {
        let store = try SQLiteStore.open(path: path)
        let lock = HeldWriteLock()
        // The thread keeps the semaphores, not the lock: a lock let go without release() is released.
        let (released, ended) = (lock.released, lock.ended)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            Thread.detachNewThread {
                var held = false
                do {
                    try store.withConnection { db in
                        try db.execute(sql: "BEGIN IMMEDIATE")
                        held = true
                        continuation.resume()
                        released.wait()
                        try? db.execute(sql: "ROLLBACK")
                    }
                } catch {
                    if !held { continuation.resume(throwing: error) }
                }
                ended.signal()
            }
        }
        return lock
    }

    /// Lets the lock go and returns once it is free.
    public func release() async {
        released.signal()
        let ended = self.ended
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                ended.wait()
                continuation.resume()
            }
        }
    }

    deinit { released.signal() }
}

/// Holds a worker queue with a job that waits, and returns once the job
/// runs (the worker finished whatever it had before): the test queues work
/// behind it, then signals the returned gate to let the worker go.
public func hold(_ worker: DispatchQueue) async -> DispatchSemaphore {
    let gate = DispatchSemaphore(value: 0)
    let held = DispatchSemaphore(value: 0)
    worker.async {
        held.signal()
        gate.wait()
    }
    await withCheckedContinuation { continuation in
        DispatchQueue.global().async {
            held.wait()
            continuation.resume()
        }
    }
    return gate
}
