import Foundation
import RotorCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Makes committed transactions durable by `fsync` of the database's
/// `-wal` file.
///
/// Connections run with `synchronous=NORMAL`, so a commit appends its frames
/// to the WAL without waiting for the disk (a crashed *process* loses
/// nothing; a power cut could). Rotor then fsyncs the WAL itself: after each
/// synchronous write, and once per shared transaction of ``GroupCommit``.
/// That is the durability of `synchronous=FULL`, with one fsync for many
/// concurrent commits. fsync flushes the file, whichever descriptor wrote
/// it, so Rotor's own descriptor serves.
final class WALSync: @unchecked Sendable {
    let walPath: String
    private let lock = NSLock()
    private var descriptor: Int32 = -1
    private var inode: ino_t = 0
    private var completedSyncs = 0
    /// Commits noted so far, and how many of them an fsync has covered.
    /// Their own lock, so that noting a commit never waits for an fsync.
    private let counters = NSLock()
    private var noted = 0
    private var covered = 0
    /// Runs before each fsync; tests hold an fsync back with it. Set before first use.
    var willSync: (@Sendable () -> Void)?

    init(databasePath: String) {
        walPath = databasePath + "-wal"
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// How many fsyncs have run (for tests and benchmarks).
    var syncCount: Int { lock.withLock { completedSyncs } }

    /// fsync of the WAL file as it is now. The descriptor is opened on first
    /// use (and again if SQLite replaced the file), and the directory is
    /// synced then, so that a new WAL file's name is durable too. One at a
    /// time: the lock is held for the whole call. It covers every commit
    /// noted before it began.
    func syncNow() throws {
        let target = counters.withLock { noted }
        willSync?()
        try lock.withLock {
            var current = stat()
            // No WAL: the last connection checkpointed it into the database, synced, and removed it.
            guard stat(walPath, &current) == 0 else { return }
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
            guard fsync(descriptor) == 0 else {
                throw RotorError(
                    .io,
                    "cannot sync \(walPath) to disk: \(String(cString: strerror(errno))); the last change may not survive a power cut"
                )
            }
            completedSyncs += 1
        }
        counters.withLock { covered = max(covered, target) }
    }

    /// Notes a commit that no fsync has covered yet.
    func noteUnsynced() {
        counters.withLock { noted += 1 }
    }

    /// ``syncNow()`` when a commit noted by ``noteUnsynced()`` is not yet durable.
    func syncIfNeeded() throws {
        if counters.withLock({ noted > covered }) { try syncNow() }
    }
}
