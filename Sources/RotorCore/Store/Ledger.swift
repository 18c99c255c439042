import Foundation

/// The store, the keys that seal its secrets, the clock and who is acting:
/// everything a change needs to be written with its audit event in one
/// transaction.
public struct Ledger: Sendable {
    public let store: any Store
    public let keyring: Keyring
    public let clock: any WallClock
    /// `user@host` for the CLI, `scheduler` for the daemon.
    public let actor: String

    public init(store: any Store, keyring: Keyring, clock: any WallClock, actor: String) {
        self.store = store
        self.keyring = keyring
        self.clock = clock
        self.actor = actor
    }

    /// Runs `body` in one read transaction; the caller suspends meanwhile.
    public func read<T: Sendable>(_ body: @escaping @Sendable (any StoreReader) throws -> T) async throws -> T {
        try await store.read(body)
    }

    /// Runs `body` as one atomic write and returns once it is durable; with
    /// `durable: false`, once committed (see ``Store/commit(durable:_:)``),
    /// which suits a change a later run would redo if a power cut lost it.
    /// Concurrent commits may share one transaction and one flush to disk
    /// (each body atomic on its own). The transaction first checks that the
    /// database is still sealed with this process's key: after `rotor key
    /// rotate` in another process, nothing is sealed with the old one.
    @discardableResult
    public func commit<T: Sendable>(
        durable: Bool = true, _ body: @escaping @Sendable (LedgerTransaction) throws -> T
    ) async throws -> T {
        try await store.commit(durable: durable) { writer in try self.transaction(writer, body) }
    }

    /// Returns once every commit made so far is durable.
    public func flush() async throws {
        try await store.flush()
    }

    func transaction<T>(_ writer: any StoreWriter, _ body: (LedgerTransaction) throws -> T) throws -> T {
        guard try writer.meta(.keyID) == keyring.master.id else {
            throw RotorError(
                .keyMismatch,
                "the master key was rotated by another process since this one started; run the command again")
        }
        return try body(LedgerTransaction(store: writer, keyring: keyring, now: clock.now, actor: actor))
    }
}

/// One write transaction, with the means to seal secrets and record events.
public struct LedgerTransaction {
    public let store: any StoreWriter
    public let keyring: Keyring
    /// The transaction's time; every row and event it writes carries it.
    public let now: Date
    public let actor: String

    /// Appends an audit event to the chain, in this transaction.
    @discardableResult
    public func record(_ draft: AuditDraft) throws -> AuditEvent {
        let head = try store.auditHead()
        let event = AuditChain.next(draft, after: head, time: now, actor: actor)
        try store.appendAudit(event, head: AuditChain.head(after: event, previous: head, keyring: keyring))
        return event
    }
}
