import Dispatch
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import RotorCore
import RotorSQL

/// The PostgreSQL implementation of ``RotorCore/Store`` (postgres.md), on
/// postgres-nio: several Rotor instances on one database, coordinated by
/// PostgreSQL's transactions, row locks and constraints alone.
///
/// One connection per store; transaction bodies run one at a time on the
/// store's own thread and wait there for each answer. Every write first
/// takes one transaction-scoped advisory lock, so writes serialize across
/// instances as SQLite's `BEGIN IMMEDIATE` does on one host (the audit chain
/// needs one writer at a time anyway), and, when it changed a row, bumps
/// `change_mark`, which ``changeMark()`` reads. A read is one REPEATABLE READ transaction.
///
/// A lost connection (the server restarted, the network went) fails the
/// transaction it was in with ``RotorCore/RotorError/Kind/databaseUnavailable``
/// and is made again by the next one; while the server cannot be reached,
/// attempts are spaced out (1 s doubling to 30 s) and the transactions in
/// between fail at once with the same error.
public final class PostgresStore: Store, @unchecked Sendable {
    public let location: PostgresLocation
    private let configuration: PostgresConnection.Configuration
    private let queue = DispatchQueue(label: "rotor.postgres")
    /// The open connection; touched only on `queue`.
    private var current: PostgresConnection?
    /// After a failed connection attempt: when to try again, and how many failed in a row.
    private var retryAt: Date?
    private var failedAttempts = 0
    /// The submitted commit bodies, taken in batches on the store's thread.
    private(set) var batched: CommitBatches<PostgresTransaction>!
    /// Tables known to exist and statements as the server takes them; touched only on `queue`.
    private let catalog = PostgresTransaction.Catalog()
    /// The advisory lock every write takes.
    static let writeLock: Int64 = 0x526F_746F_72  // "Rotor"
    /// How long one statement may go unanswered before its connection is given up.
    static let answerTimeout: TimeAmount = .seconds(30)

    private init(location: PostgresLocation, configuration: PostgresConnection.Configuration) {
        self.location = location
        self.configuration = configuration
        batched = CommitBatches(worker: queue) { [unowned self] jobs in commitBatch(jobs) }
    }

    deinit {
        // A store let go without close(): the connection goes with it, closed
        // before it is released (postgres-nio requires it), waiting only off an event loop.
        guard let current, !current.isClosed else { return }
        let closing: EventLoopFuture<Void> = current.close()
        if MultiThreadedEventLoopGroup.currentEventLoop == nil { try? closing.wait() }
    }

    /// Connects to `location`: in the clear for `sslmode=disable` (loopback
    /// only, which ``PostgresLocation`` enforces), TLS for `require`, and TLS
    /// with the server's certificate and name checked for `verify-full`.
    public static func open(_ location: PostgresLocation) async throws -> PostgresStore {
        var configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.user,
            password: location.password?.reveal(), database: location.database, tls: try tls(for: location))
        configuration.options.connectTimeout = .seconds(10)
        let store = PostgresStore(location: location, configuration: configuration)
        _ = try await store.onThread { try store.connection() }
        try await store.checkSchemaIsKnown()
        return store
    }

    /// The open connection, made again if it was lost. Only on `queue`.
    private func connection() throws -> PostgresConnection {
        if let current, !current.isClosed { return current }
        current = nil
        if let retryAt, Date() < retryAt {
            throw RotorError(
                .databaseUnavailable,
                "the PostgreSQL database \(location) cannot be reached; trying again in \(Int(retryAt.timeIntervalSinceNow.rounded(.up))) s"
            )
        }
        let presence = Self.presenceKey(LeaseOwner.presence)
        let connecting = PostgresConnection.connect(
            on: PostgresConnection.defaultEventLoopGroup.any(), configuration: configuration,
            id: Int.random(in: 1...Int(Int32.max)), logger: PostgresTransaction.logger
        ).flatMap { connection in
            // Held by this session until it ends: the process's leases are alive while it is (leaseOwnerIsGone).
            connection.query("SELECT pg_try_advisory_lock(\(presence))", logger: PostgresTransaction.logger).map {
                _ in connection
            }
        }
        do {
            let connection = try connecting.wait()
            current = connection
            retryAt = nil
            failedAttempts = 0
            return connection
        } catch {
            failedAttempts += 1
            retryAt = Date().addingTimeInterval(min(30, pow(2, Double(min(failedAttempts, 6) - 1))))
            throw RotorError(.databaseUnavailable, "cannot connect to \(location): \(Self.reason(error))")
        }
    }

    /// The key of the session-level advisory lock that says a process is
    /// connected: FNV-1a of its `node/pid`. Two processes with one key (a
    /// hash collision, or containers with the same host name and PID) only
    /// look alive to each other, which is the safe way to be wrong.
    static func presenceKey(_ presence: String) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in presence.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return Int64(bitPattern: hash)
    }

    static func tls(for location: PostgresLocation) throws(RotorError) -> PostgresConnection.Configuration.TLS {
        var settings = TLSConfiguration.makeClientConfiguration()
        switch location.sslMode {
        case .disable:
            return .disable
        case .require:
            settings.certificateVerification = .none
        case .verifyFull:
            settings.certificateVerification = .fullVerification
            if let file = location.rootCertificateFile {
                do {
                    settings.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(file))
                } catch {
                    throw RotorError(
                        .invalidInput, "sslrootcert \(UserText.shown(file)) is not a readable PEM certificate file")
                }
            }
        }
        do {
            return .require(try NIOSSLContext(configuration: settings))
        } catch {
            throw RotorError(.invalidInput, "cannot set up TLS for \(location): \(error)")
        }
    }

    /// Whether the server ended the session: SQLSTATE class 08 (connection
    /// exception) or 57P (shut down, crashed, starting up), as a restart does.
    static func meansServerGone(_ error: any Error) -> Bool {
        guard let state = (error as? PSQLError)?.serverInfo?[.sqlState] else { return false }
        return state.hasPrefix("08") || state.hasPrefix("57P")
    }

    /// A database error in one line, without bound values or the password.
    static func reason(_ error: any Error) -> String {
        if let error = error as? ConnectionLost { return error.reason }
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return message }
            if let underlying = error.underlying { return reason(underlying) }
            return "\(error.code)"
        }
        return String(String(describing: error).prefix(200))
    }

    /// Runs `body` on the store's thread while the caller suspends.
    private func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }

    private func transaction<T>(begin: String, write: Bool, durable: Bool, _ body: (PostgresTransaction) throws -> T)
        throws -> T
    {
        let connection = try connection()
        let tx = PostgresTransaction(connection: connection, state: PostgresTransaction.State(), catalog: catalog)
        // BEGIN, the write lock and the commit mode are waited for together (``PostgresTransaction/runAll(_:)``).
        var opening: [(sql: String, arguments: StatementArguments)] = [(begin, [])]
        if write {
            opening.append(("SELECT pg_advisory_xact_lock(?)", [Self.writeLock]))
            if !durable { opening.append(("SET LOCAL synchronous_commit = off", [])) }
        }
        do {
            try tx.runAll(opening)
            let result = try body(tx)
            try tx.finish()
            // Others learn of a change from the counter; a transaction that changed nothing leaves it.
            // The counter and COMMIT are waited for together.
            var closing: [(sql: String, arguments: StatementArguments)] = [("COMMIT", [])]
            if write, tx.state.changed { closing.insert(("UPDATE change_mark SET n = n + 1 WHERE id = 1", []), at: 0) }
            try tx.runAll(closing)
            return result
        } catch {
            if connection.isClosed || error is ConnectionLost || Self.meansServerGone(error) {
                throw RotorError(
                    .databaseUnavailable,
                    "lost the connection to the PostgreSQL database \(location): \(Self.reason(error)); nothing of this transaction was kept"
                )
            }
            try? tx.execute(sql: "ROLLBACK")
            throw failure(error)
        }
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any StoreReader) throws -> T) async throws -> T {
        try await onThread {
            try self.transaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ", write: false, durable: true) {
                try body($0)
            }
        }
    }

    /// Group commit, as on SQLite: the bodies that concurrent callers submit
    /// while one transaction is under way share the next one, and its
    /// commit (one WAL flush instead of one each). A body that throws is
    /// undone alone and its caller gets the error: the transaction is rolled
    /// back and the others are run again without it in a new one (a
    /// savepoint a body would cost two round trips each time, and a body
    /// only reads and writes through its writer, so running it again is
    /// safe). A lost connection fails them all. The transaction waits for
    /// the disk when any of its bodies asked to.
    public func commit<T: Sendable>(durable: Bool, _ body: @escaping @Sendable (any StoreWriter) throws -> T)
        async throws -> T
    {
        try await batched.submit(durable: durable) { try body($0) }
    }

    private typealias Job = CommitBatches<PostgresTransaction>.Job

    /// The body of a batch that threw, ending its transaction.
    private struct BodyFailed: Error {
        var index: Int
        var error: any Error
    }

    /// Commits one batch in one transaction. On the store's thread.
    private func commitBatch(_ jobs: [Job]) {
        var results = [Result<Void, any Error>](repeating: .success(()), count: jobs.count)
        var remaining = Array(jobs.indices)
        while !remaining.isEmpty {
            do {
                try transaction(begin: "BEGIN", write: true, durable: remaining.contains { jobs[$0].durable }) {
                    tx in
                    for index in remaining {
                        do {
                            try jobs[index].run(tx)
                        } catch {
                            guard remaining.count > 1, !tx.connection.isClosed, !(error is ConnectionLost),
                                !Self.meansServerGone(error)
                            else { throw error }
                            throw BodyFailed(index: index, error: error)
                        }
                    }
                }
                break
            } catch let failed as BodyFailed {
                results[failed.index] = .failure(failure(failed.error))
                remaining.removeAll { $0 == failed.index }
            } catch {
                for index in remaining { results[index] = .failure(error) }
                break
            }
        }
        for (job, result) in zip(jobs, results) { job.finish(result) }
    }

    /// A body's error as its caller gets it: the database's own in one line, the body's as it is.
    private func failure(_ error: any Error) -> any Error {
        guard error is PSQLError || error is PostgresDecodingError else { return error }
        return RotorError(.io, "database error on \(location): \(Self.reason(error))")
    }

    /// A commit is durable when it returns, or, made with `durable: false`,
    /// once a later durable commit has returned; a durable commit of nothing makes it so.
    public func flush() async throws {
        try await commit(durable: true) { _ in }
    }

    public func changeMark() async throws -> Int64 {
        try await onThread {
            try self.transaction(begin: "BEGIN", write: false, durable: true) { tx in
                try tx.value("SELECT n FROM change_mark WHERE id = 1") ?? 0
            }
        }
    }

    /// A backup of PostgreSQL is a SQLite file, which this module does not
    /// write: `rotor backup` copies the store into one (``RotorSQL/SQLStoreCopy``).
    public func backup(to destination: String) async throws {
        throw RotorError(.invalidInput, "back up a PostgreSQL database with `rotor backup PATH` (a SQLite copy)")
    }

    public func close() async throws {
        let connection = try await onThread {
            defer { self.current = nil }
            return self.current
        }
        if let connection, !connection.isClosed { try await connection.close() }
    }
}

// MARK: Migrations

extension PostgresStore {
    /// `migrations/postgres/NNNN_name.sql`, embedded at build time.
    struct Migration {
        var version: Int
        var file: String
        var sql: String
    }

    static let migrations: [Migration] = embeddedMigrations.map { entry in
        Migration(
            version: Int(entry.file.prefix(while: \.isNumber)) ?? 0, file: entry.file,
            sql: String(decoding: Data(base64Encoded: entry.base64) ?? Data(), as: UTF8.self))
    }

    static let createMigrationsTable = """
        CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)
        """

    private func appliedVersions() async throws -> Set<Int> {
        try await onThread {
            try self.transaction(begin: "BEGIN", write: false, durable: true) { tx in
                let tables: Int64 =
                    try tx.value(
                        "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'schema_migrations'"
                    ) ?? 0
                guard tables > 0 else { return [] }
                return Set(try tx.fetch("SELECT version FROM schema_migrations") { row -> Int in row[0] })
            }
        }
    }

    public func pendingMigrations() async throws -> [String] {
        let applied = try await appliedVersions()
        return Self.migrations.filter { !applied.contains($0.version) }.map(\.file)
    }

    /// Applies each pending migration in its own transaction, under the
    /// write lock, so instances that start together migrate once.
    public func migrate() async throws {
        for migration in Self.migrations {
            try await onThread {
                try self.transaction(begin: "BEGIN", write: false, durable: true) { tx in
                    try tx.execute(sql: "SELECT pg_advisory_xact_lock(?)", arguments: [Self.writeLock])
                    try tx.execute(sql: Self.createMigrationsTable)
                    let done: Int64 =
                        try tx.value("SELECT count(*) FROM schema_migrations WHERE version = ?", [migration.version])
                        ?? 0
                    guard done == 0 else { return }
                    for statement in Self.statements(migration.sql) { try tx.execute(sql: statement) }
                    try tx.execute(
                        sql: "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                        arguments: [migration.version, migration.file, RFC3339.format(Date())])
                }
            }
        }
    }

    /// A database written by a newer Rotor is refused.
    func checkSchemaIsKnown() async throws {
        let known = Set(Self.migrations.map(\.version))
        if let newer = try await appliedVersions().subtracting(known).max() {
            throw RotorError(
                .databaseTooNew,
                "\(location) has schema version \(newer), newer than this rotor knows (\(known.max() ?? 0)); upgrade rotor"
            )
        }
    }

    /// A migration's statements: split at `;` ending a line, but not inside a `$$` body.
    static func statements(_ sql: String) -> [String] {
        var statements: [String] = []
        var current = ""
        var inBody = false
        for line in sql.split(separator: "\n", omittingEmptySubsequences: false) {
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.hasPrefix("--"), current.isEmpty { continue }
            current += line + "\n"
            if line.components(separatedBy: "$$").count % 2 == 0 { inBody.toggle() }
            if !inBody, text.hasSuffix(";") {
                statements.append(current.trimmingCharacters(in: .whitespacesAndNewlines).dropLast() + "")
                current = ""
            }
        }
        let rest = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !rest.isEmpty { statements.append(rest) }
        return statements
    }
}
