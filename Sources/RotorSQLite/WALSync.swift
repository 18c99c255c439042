import Foundation
import RotorCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Makes committed transactions durable by `fsync` of the database's
/// `-wal` file: the group commit of ``SQLiteStore``.
///
/// Connections run with `synchronous=NORMAL`, so a commit appends its frames
/// to the WAL without waiting for the disk (a crashed *process* loses
/// nothing; a power cut could). ``sync()`` returns once an fsync that
/// started after the call has finished, so every transaction committed
/// before the call is on disk; callers that ask while an fsync runs share the
/// next one. Together this is the durability of `synchronous=FULL` at a
/// fraction of the fsyncs when many rotations commit at once. fsync flushes
/// the file, whichever descriptor wrote it, so Rotor's own descriptor serves.
final class WALSync: @unchecked Sendable {
    let walPath: String
    private let lock = NSLock()
    /// Held for a whole fsync, so the descriptor is never closed under one.
    private let syncLock = NSLock()
    private var descriptor: Int32 = -1
    private var inode: ino_t = 0
    private var requested: UInt64 = 0
    private var waiters: [(ticket: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
    private var draining = false
    private var completedSyncs = 0
    /// Runs the shared fsyncs, one at a time.
    let worker = DispatchQueue(label: "rotor.wal-sync")

    init(databasePath: String) {
        walPath = databasePath + "-wal"
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// How many fsyncs have run (for tests and benchmarks).
    var syncCount: Int { lock.withLock { completedSyncs } }

    /// Callers of ``sync()`` still waiting.
    var waiting: Int { lock.withLock { waiters.count } }

    /// Returns once everything committed before the call is durable.
    func sync() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let start: Bool = lock.withLock {
                requested += 1
                waiters.append((requested, continuation))
                if draining { return false }
                draining = true
                return true
            }
            if start { worker.async { self.drain() } }
        }
    }

    /// ``sync()`` for a thread that may block: one fsync of its own.
    func syncNow() throws {
        try fsyncWAL()
    }

    private func drain() {
        while true {
            let upTo = lock.withLock { requested }
            let result = Result { try fsyncWAL() }
            let (ready, more) = lock.withLock {
                let ready = waiters.filter { $0.ticket <= upTo }
                waiters.removeAll { $0.ticket <= upTo }
                if waiters.isEmpty { draining = false }
                return (ready, !waiters.isEmpty)
            }
            for waiter in ready { waiter.continuation.resume(with: result) }
            if !more { return }
        }
    }

    /// fsync of the WAL file as it is now. The descriptor is opened on first
    /// use (and again if SQLite replaced the file), and the directory is
    /// synced then, so that a new WAL file's name is durable too.
    private func fsyncWAL() throws {
        syncLock.lock()
        defer { syncLock.unlock() }
        let fd: Int32 = try lock.withLock {
            var current = stat()
            guard stat(walPath, &current) == 0 else {
                // No WAL: the last connection checkpointed it into the database, synced, and removed it.
                return -1
            }
            if descriptor < 0 || current.st_ino != inode {
                if descriptor >= 0 { close(descriptor) }
                descriptor = open(walPath, O_RDONLY | O_CLOEXEC)
                guard descriptor >= 0 else {
                    throw RotorError(.io, "cannot open \(walPath) to sync it: \(String(cString: strerror(errno)))")
                }
                inode = current.st_ino
                do {
                    try Files.syncDirectory(of: walPath)
                } catch {
                    throw RotorError(.io, "cannot sync the directory of \(walPath): \(error)")
                }
            }
            return descriptor
        }
        if fd >= 0, fsync(fd) != 0 {
            throw RotorError(
                .io,
                "cannot sync \(walPath) to disk: \(String(cString: strerror(errno))); nothing is lost yet, but the last change may not survive a power cut"
            )
        }
        lock.withLock { completedSyncs += 1 }
    }
}
