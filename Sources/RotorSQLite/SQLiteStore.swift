import Foundation
import GRDB
import RotorCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The SQLite implementation of ``RotorCore/Store``, on the system
/// libsqlite3 through GRDB.
///
/// Every connection runs in WAL mode (checked), foreign keys on and a busy
/// timeout. Every write transaction is `BEGIN IMMEDIATE`. The database holds
/// the only copy of live secrets, so every commit is made durable before the
/// caller goes on: ``commit(durable:_:)`` runs concurrent callers' bodies in
/// one transaction with one fsync of the WAL (``GroupCommit``, ``WALSync``);
/// the connection's own `synchronous=NORMAL` leaves that fsync to Rotor.
/// Commits that a caller does not wait for (`durable: false`) reach the disk
/// with the next fsync. Bodies run on GRDB's and the group commit's own
/// queues; callers suspend meanwhile.
public struct SQLiteStore: Store {
    public let path: String
    let queue: DatabaseQueue
    let wal: WALSync
    let group: GroupCommit

    /// How long a writer waits for another process's lock before giving up.
    public let busyTimeout: TimeInterval
    public static let defaultBusyTimeout: TimeInterval = 15
    /// The longest busy timeout taken: one hour.
    public static let maximumBusyTimeout: TimeInterval = 3600

    /// A busy timeout in seconds as a person writes it (`15`, `0.5`): a
    /// finite number from 0 to 3600.
    public static func busyTimeout(parsing text: String, option: String) throws(RotorError) -> TimeInterval {
        guard text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), let seconds = TimeInterval(text),
            seconds.isFinite, (0...maximumBusyTimeout).contains(seconds)
        else {
            throw RotorError(
                .invalidInput,
                "\(option) takes seconds from 0 to \(Int(maximumBusyTimeout)) (like 15 or 0.5), not \(UserText.quoted(text))"
            )
        }
        return seconds
    }

    /// Opens the database at `path`. With `create` a missing file is created
    /// with mode 0600; without it a missing file is an error (nothing is
    /// created). A database written by a newer Rotor is refused.
    public static func open(path: String, create: Bool = false, busyTimeout: TimeInterval = defaultBusyTimeout) throws
        -> SQLiteStore
    {
        if !Files.exists(path) {
            guard create else {
                throw RotorError(
                    .notInitialized,
                    "no database at \(UserText.shown(path)); run `rotor init` (or pass the right --db / ROTOR_DB)")
            }
            let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else {
                let reason = String(cString: strerror(errno))
                throw RotorError(.databaseUnavailable, "cannot create database \(UserText.shown(path)): \(reason)")
            }
            #if canImport(Glibc)
                _ = Glibc.close(fd)
            #else
                _ = Darwin.close(fd)
            #endif
        } else if let info = Files.status(path), info.st_mode & S_IFMT != S_IFREG {
            throw RotorError(.databaseInvalid, "\(UserText.shown(path)) is not a regular file, so not a Rotor database")
        }
        var config = Configuration()
        config.busyMode = .timeout(busyTimeout)
        config.foreignKeysEnabled = true
        config.label = "rotor"
        config.prepareDatabase { db in
            let mode = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
            guard mode?.lowercased() == "wal" else {
                throw RotorError(
                    .databaseUnavailable,
                    "SQLite did not switch \(UserText.shown(path)) to WAL mode (it answered \(mode ?? "nothing")); is it on a network file system?"
                )
            }
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // Savepoint journals and sorts stay in memory: no database page is
            // ever written to a temporary file outside the database's own files.
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(path: path, configuration: config)
        } catch {
            throw SQLiteStore.translate(error, path: path, busyTimeout: busyTimeout)
        }
        let wal = WALSync(databasePath: path)
        let group = GroupCommit(queue: queue, wal: wal) {
            SQLiteStore.translate($0, path: path, busyTimeout: busyTimeout)
        }
        let store = SQLiteStore(path: path, queue: queue, wal: wal, group: group, busyTimeout: busyTimeout)
        try store.checkSchemaIsKnown()
        return store
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any StoreReader) throws -> T) async throws -> T {
        try await onConnection { db in
            try SQLiteStore.transaction(db, begin: "BEGIN DEFERRED") { try body(SQLiteTransaction(db: db)) }
        }
    }

    /// Runs `body` on the connection's queue while the caller suspends. Like
    /// a commit, it is not cancelled with the calling task: a store call, once
    /// made, runs to its end, so a rotation that is being stopped never meets
    /// a read that was cut off.
    func onConnection<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await withCheckedThrowingContinuation { continuation in
                queue.asyncWriteWithoutTransaction { db in continuation.resume(with: Result { try body(db) }) }
            }
        } catch {
            throw translate(error)
        }
    }

    public func commit<T: Sendable>(durable: Bool, _ body: @escaping @Sendable (any StoreWriter) throws -> T)
        async throws -> T
    {
        try await group.submit(durable: durable) { db in try body(SQLiteTransaction(db: db)) }
    }

    public func flush() async throws {
        try await group.submit(durable: true) { _ in }
    }

    /// `PRAGMA data_version`: it moves when another connection commits.
    public func changeMark() async throws -> Int64 {
        try await onConnection { db in try Int64.fetchOne(db.cachedStatement(sql: "PRAGMA data_version")) ?? 0 }
    }

    public func close() async throws {
        try await flush()
        do {
            try queue.close()
        } catch {
            throw translate(error)
        }
    }

    /// Shared transactions committed by ``commit(durable:_:)`` so far (for tests).
    public var groupCommitCount: Int { group.batchCount }

    /// fsyncs of the WAL so far, by this store (for tests and benchmarks).
    public var syncCount: Int { wal.syncCount }

    /// One transaction with statements prepared once per connection: the
    /// begin, commit and rollback of every transaction are the same three.
    static func transaction<T>(_ db: Database, begin: String, _ body: () throws -> T) throws -> T {
        try db.cachedStatement(sql: begin).execute()
        do {
            let result = try body()
            try db.cachedStatement(sql: "COMMIT").execute()
            return result
        } catch {
            if !db.isInsideTransaction {
                throw error
            }
            try? db.cachedStatement(sql: "ROLLBACK").execute()
            throw error
        }
    }

    /// Runs `body` with the raw GRDB connection. For test support and
    /// benchmarks only; the product goes through ``read(_:)`` and ``commit(durable:_:)``.
    public func withConnection<T>(_ body: (Database) throws -> T) throws -> T {
        try queue.writeWithoutTransaction(body)
    }

    /// A readable description of a database failure, with SQLite's result
    /// code and message but never the bound values.
    func translate(_ error: any Error) -> any Error {
        SQLiteStore.translate(error, path: path, busyTimeout: busyTimeout)
    }

    static func translate(_ error: any Error, path: String, busyTimeout: TimeInterval = defaultBusyTimeout) -> any Error
    {
        guard let error = error as? DatabaseError else { return error }
        switch error.resultCode {
        case .SQLITE_NOTADB:
            return RotorError(
                .databaseInvalid, "\(UserText.shown(path)) is not a Rotor database (not an SQLite file); check --db")
        case .SQLITE_CORRUPT:
            return RotorError(
                .databaseInvalid,
                "\(UserText.shown(path)) is damaged (SQLite reports corruption); restore it from a backup")
        case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_READONLY, .SQLITE_AUTH:
            return RotorError(
                .databaseUnavailable,
                "cannot open \(UserText.shown(path)) for writing (\(error.message ?? "SQLite error \(error.resultCode.rawValue)")); check that the file and its directory are writable by this user"
            )
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return RotorError(
                .busy, "\(UserText.shown(path)) stayed locked by another process for \(busyTimeout)s; try again")
        case .SQLITE_FULL:
            return RotorError(.io, "the disk holding \(UserText.shown(path)) is full; nothing was changed")
        case .SQLITE_IOERR:
            return RotorError(.io, "I/O error on \(UserText.shown(path)) (\(error.message ?? "")); nothing was changed")
        default:
            return RotorError(
                .io,
                "database error on \(UserText.shown(path)): SQLite \(error.resultCode.rawValue): \(error.message ?? "unknown")"
            )
        }
    }
}

extension SQLiteStore {
    /// An online, consistent copy of the database (`VACUUM INTO`).
    public func backup(to destination: String) async throws {
        guard !Files.exists(destination) else {
            throw RotorError(.alreadyExists, "\(destination) already exists; a backup never overwrites a file")
        }
        try await onConnection { db in try db.execute(sql: "VACUUM INTO ?", arguments: [destination]) }
        chmod(destination, 0o600)
        do {
            try Files.sync(destination)
        } catch {
            throw RotorError(.io, "the backup was written but could not be synced to disk: \(error)")
        }
    }
}
