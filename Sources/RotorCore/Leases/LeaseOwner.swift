import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Lease owners are `node/pid/nonce`, the node being `--node NAME` or the
/// host's name. A lease whose owner is known to be gone can be taken over
/// before it expires: a crashed `rotor rotate` does not block recovery for
/// the lease's lifetime. On SQLite that is a process of this host that no
/// longer runs; on PostgreSQL, an owner whose database session ended
/// (``presence``).
public enum LeaseOwner {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var chosenNode: String?

    /// This process's node name: `--node NAME`, else the host's name.
    public static var node: String {
        lock.withLock { chosenNode } ?? hostname()
    }

    /// Sets the node name (`--node`), before any lease is taken.
    public static func setNode(_ name: String) {
        lock.withLock { chosenNode = name }
    }

    /// A fresh owner name for this process.
    public static func make() -> String {
        "\(presence)/\(UInt32.random(in: 0...UInt32.max))"
    }

    /// `node/pid`: the part of this process's owner names that says which
    /// process holds a lease, whatever the nonce.
    public static var presence: String { "\(node)/\(getpid())" }

    /// The `node/pid` of `owner`; nil for a name not made by ``make()``.
    public static func presence(of owner: String) -> String? {
        let parts = owner.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, pid_t(parts[1]) != nil else { return nil }
        return "\(parts[0])/\(parts[1])"
    }

    /// Whether `owner` names a process on this host that no longer runs.
    public static func isStale(_ owner: String) -> Bool {
        let parts = owner.split(separator: "/")
        guard parts.count == 3, String(parts[0]) == node, let pid = pid_t(parts[1]) else { return false }
        if pid == getpid() { return false }
        return kill(pid, 0) != 0 && errno == ESRCH
    }

    static func hostname() -> String {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count) == 0 else { return "localhost" }
        return String(decoding: name.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// A lease this process holds, renewed in the background until released.
public final class HeldLease: Sendable {
    public let lease: Lease
    private let heartbeat: Task<Void, Never>

    init(lease: Lease, heartbeat: Task<Void, Never>) {
        self.lease = lease
        self.heartbeat = heartbeat
    }

    deinit {
        heartbeat.cancel()
    }

    func stop() {
        heartbeat.cancel()
    }
}

extension Ledger {
    /// Takes the lease `name` for `owner`, or returns nil while another live
    /// owner holds it. The lease is renewed every third of `duration` until
    /// ``releaseLease(_:)``, or until a renewal finds it no longer held.
    public func acquireLease(_ name: String, owner: String, duration: TimeInterval) async throws -> HeldLease? {
        try await acquireLease(name, owner: owner, duration: duration) { _ in }?.held
    }

    /// ``acquireLease(_:owner:duration:)`` with what `reading` returns, read
    /// in the transaction that took the lease. When `reading` throws,
    /// nothing is kept (not the lease either) and its error is rethrown.
    public func acquireLease<T: Sendable>(
        _ name: String, owner: String, duration: TimeInterval,
        reading: @escaping @Sendable (any StoreWriter) throws -> T
    ) async throws -> (held: HeldLease, value: T)? {
        guard let (lease, value) = try await takeLease(name, owner: owner, duration: duration, reading: reading)
        else {
            return nil
        }
        let heartbeat = Task { [self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(Int64(duration * 1000 / 3)))
                if Task.isCancelled { break }
                // A failed write is tried again at the next beat; a lost lease ends the beats.
                do {
                    if try await !renewLease(lease, duration: duration) { break }
                } catch {
                    continue
                }
            }
        }
        return (HeldLease(lease: lease, heartbeat: heartbeat), value)
    }

    /// Runs `body` holding the lease `name`, released when it returns or
    /// throws; nil while another live owner holds it.
    public func withLease<T>(
        _ name: String, owner: String, duration: TimeInterval, _ body: (Lease) async throws -> T
    ) async throws -> T? {
        try await withLease(name, owner: owner, duration: duration, reading: { _ in }) { lease, _ in
            try await body(lease)
        }
    }

    /// ``withLease(_:owner:duration:_:)`` with what `reading` read in the
    /// transaction that took the lease, and `releasing` run in the one that
    /// releases it.
    public func withLease<Start: Sendable, T>(
        _ name: String, owner: String, duration: TimeInterval,
        reading: @escaping @Sendable (any StoreWriter) throws -> Start,
        releasing: @escaping @Sendable (any StoreWriter) throws -> Void = { _ in },
        _ body: (Lease, Start) async throws -> T
    ) async throws -> T? {
        guard let (held, start) = try await acquireLease(name, owner: owner, duration: duration, reading: reading)
        else { return nil }
        do {
            let result = try await body(held.lease, start)
            await releaseLease(held, alongside: releasing)
            return result
        } catch {
            await releaseLease(held, alongside: releasing)
            throw error
        }
    }

    /// Releases the lease, without waiting for the disk: a release lost in a
    /// power cut only leaves a lease to expire.
    public func releaseLease(_ held: HeldLease) async {
        await releaseLease(held) { _ in }
    }

    /// Releases the lease in a shared commit, with `alongside` in the same
    /// transaction, without waiting for the disk either.
    public func releaseLease(_ held: HeldLease, alongside: @escaping @Sendable (any StoreWriter) throws -> Void)
        async
    {
        held.stop()
        let lease = held.lease
        _ = try? await store.commit(durable: false) { writer in
            try writer.releaseLease(lease.name, owner: lease.owner)
            try alongside(writer)
        }
    }

    /// Extends `lease` by `duration` from now if it is still held as it was
    /// taken; false when it is not. Like taking, it does not wait for the disk.
    public func renewLease(_ lease: Lease, duration: TimeInterval) async throws -> Bool {
        let clock = self.clock
        return try await store.commit(durable: false) { writer in
            let now = clock.now
            return try writer.renewLease(lease, expiresAt: now.addingTimeInterval(duration), now: now)
        }
    }

    /// The lease as it stands after trying to take it, if `owner` holds it now.
    ///
    /// The commit does not wait for the disk: a lease lost in a power cut is
    /// lost by every process on the host, and the holder's first durable
    /// commit (fenced by the lease) makes the lease durable before it.
    public func takeLease(_ name: String, owner: String, duration: TimeInterval) async throws -> Lease? {
        try await takeLease(name, owner: owner, duration: duration) { _ in }?.lease
    }

    /// ``takeLease(_:owner:duration:)`` with what `reading` returns,
    /// read in the same transaction once the lease is taken.
    public func takeLease<T: Sendable>(
        _ name: String, owner: String, duration: TimeInterval,
        reading: @escaping @Sendable (any StoreWriter) throws -> T
    ) async throws -> (lease: Lease, value: T)? {
        let clock = self.clock
        return try await store.commit(durable: false) { writer in
            let now = clock.now
            let lease = try writer.acquireLease(
                name, owner: owner, expiresAt: now.addingTimeInterval(duration), now: now)
            guard lease.owner == owner else { return nil }
            return (lease, try reading(writer))
        }
    }
}

extension LedgerTransaction {
    /// Throws unless `lease` is still held, under the same fencing token.
    public func fence(_ lease: Lease) throws {
        guard let current = try store.lease(lease.name), current.owner == lease.owner, current.token == lease.token
        else {
            throw RotorError(
                .busy,
                "this process lost the lease \(lease.name) to another process; it stopped without changing anything")
        }
    }
}
