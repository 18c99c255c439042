import Foundation
import Logging
import PostgresNIO
import RotorCore
import RotorSQL

/// A statement that could not be answered: its connection is gone or given up.
struct ConnectionLost: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}

/// ``RotorSQL/SQLTransaction`` over one PostgreSQL connection inside a
/// transaction: the queries are RotorSQL's; this supplies PostgreSQL's
/// primitives. The body of a transaction is synchronous (``RotorCore/Store``):
/// each statement waits for its answer on the store's own thread, never on
/// an event loop or a thread of Swift's pool.
///
/// Each statement is a round trip to the server, so a transaction keeps
/// what it read that only it can change while it holds the write lock:
/// `meta` values, and the audit head, which it writes once, before COMMIT,
/// with the events it appended in one statement (``finish()``).
struct PostgresTransaction: SQLTransaction {
    let connection: PostgresConnection
    let state: State
    let catalog: Catalog

    /// What the statements so far reported, and what the transaction keeps.
    final class State: @unchecked Sendable {
        var changesCount = 0
        /// Whether a statement inserted, changed or deleted a row others should hear of
        /// (a node's own heartbeat is not news: it would wake every instance for nothing).
        var changed = false
        var meta: [MetaKey: String?] = [:]
        /// The audit head as this transaction last read or moved it; nil when not read yet.
        var head: AuditHead??
        /// The head moved and is written before COMMIT.
        var headMoved = false
        /// Events appended and not yet inserted: they go in one statement,
        /// before COMMIT or before anything reads or deletes events.
        var events: [AuditEvent] = []
    }

    /// Tables known to exist, kept for the store's life (none is ever
    /// dropped), and statements as the server takes them. Touched only on
    /// the store's thread.
    final class Catalog: @unchecked Sendable {
        var tables: Set<String> = []
        private var statements: [String: String] = [:]

        /// ``PostgresTransaction/numbered(_:)``, done once a statement: the
        /// store's statements are a few hundred texts.
        func numbered(_ sql: String) -> String {
            if let known = statements[sql] { return known }
            if statements.count >= 1024 { statements.removeAll() }
            let numbered = PostgresTransaction.numbered(sql)
            statements[sql] = numbered
            return numbered
        }
    }

    static let logger = Logger(label: "rotor.postgres")

    /// Runs one statement; `?` placeholders become `$1`, `$2`, … in order.
    @discardableResult
    func run(_ sql: String, _ arguments: StatementArguments) throws -> PostgresQueryResult {
        try runAll([(sql, arguments)])
    }

    /// Runs statements in order, handed to the connection together and
    /// waited for together. postgres-nio sends a query only once the one
    /// before it is answered (it does not pipeline), so this saves the
    /// hand-offs between the store's thread and the event loop, not round
    /// trips. Each answer is checked in order; the first error is thrown.
    /// Returns the last answer.
    @discardableResult
    func runAll(_ statements: [(sql: String, arguments: StatementArguments)]) throws -> PostgresQueryResult {
        // postgres-nio leaves a query on a connection already closed unanswered: fail it here,
        // and give up a connection whose answer does not come.
        guard !connection.isClosed else {
            throw ConnectionLost(reason: "the connection is closed")
        }
        let answers = statements.map { statement in
            let answer = connection.eventLoop.makePromise(of: PostgresQueryResult.self)
            connection.query(
                PostgresQuery(unsafeSQL: catalog.numbered(statement.sql), binds: Self.bindings(statement.arguments)),
                logger: Self.logger
            ).cascade(to: answer)
            return answer
        }
        let timeout = connection.eventLoop.scheduleTask(in: PostgresStore.answerTimeout) { [connection] in
            let lost = ConnectionLost(
                reason: "no answer within \(PostgresStore.answerTimeout.nanoseconds / 1_000_000_000) s")
            for answer in answers { answer.fail(lost) }
            let closing: EventLoopFuture<Void> = connection.close()
            closing.whenComplete { _ in }
        }
        defer { timeout.cancel() }
        var results: [Result<PostgresQueryResult, any Error>] = []
        for answer in answers { results.append(Result { try answer.futureResult.wait() }) }
        var last: PostgresQueryResult?
        for (statement, result) in zip(statements, results) {
            let answer = try result.get()
            state.changesCount = answer.metadata.rows ?? 0
            if state.changesCount > 0, ["INSERT", "UPDATE", "DELETE"].contains(answer.metadata.command),
                !statement.sql.hasPrefix("INSERT INTO nodes ")
            {
                state.changed = true
            }
            last = answer
        }
        guard let last else { throw ConnectionLost(reason: "no statement was sent") }
        return last
    }

    static func bindings(_ arguments: StatementArguments) -> PostgresBindings {
        var bindings = PostgresBindings(capacity: arguments.count)
        for argument in arguments {
            switch argument.cell {
            case .null: bindings.appendNull()
            case .int(let value): bindings.append(value)
            case .text(let value): bindings.append(value)
            case .bytes(let value): bindings.append(ByteBuffer(bytes: value))
            }
        }
        return bindings
    }

    func rows(_ sql: String, _ arguments: StatementArguments, _ body: (SQLRow) throws -> Void) throws {
        for row in try run(sql, arguments).rows { try body(try Self.row(row)) }
    }

    func execute(sql: String, arguments: StatementArguments) throws {
        try run(sql, arguments)
    }

    func lastInsertedRowID() throws -> Int64 {
        try value("SELECT lastval()") ?? 0
    }

    var changesCount: Int { state.changesCount }

    func nextRotationID() throws -> Int64 {
        try value("SELECT nextval(pg_get_serial_sequence('rotations', 'id'))") ?? 1
    }

    /// Whether the process that owns a lease has no session on the
    /// database any more: each store holds a session-level advisory lock
    /// keyed on its `node/pid` (``PostgresStore/presenceKey(_:)``) while it is
    /// connected, so a lock that can be taken belongs to nobody. A process
    /// that lost its connection also counts as gone: it can change nothing
    /// (its writes are fenced), and a rotation request it may still have in
    /// flight is what the engine's in-flight window is for. Anything unknown
    /// (a foreign owner name, a failed query) counts as alive, which only
    /// means waiting for the lease to expire.
    func leaseOwnerIsGone(_ owner: String) -> Bool {
        guard let presence = LeaseOwner.presence(of: owner), presence != LeaseOwner.presence else { return false }
        let key = PostgresStore.presenceKey(presence)
        guard let free: Int64 = try? value("SELECT CASE WHEN pg_try_advisory_lock(?) THEN 1 ELSE 0 END", [key]),
            free == 1
        else { return false }
        _ = try? value("SELECT CASE WHEN pg_advisory_unlock(?) THEN 1 ELSE 0 END", [key]) as Int64?
        return true
    }

    func hasTable(_ name: String) throws -> Bool {
        if catalog.tables.contains(name) { return true }
        let count: Int64 =
            try value(
                "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = ?", [name]) ?? 0
        if count > 0 { catalog.tables.insert(name) }
        return count > 0
    }

    func meta(_ key: MetaKey) throws -> String? {
        if let known = state.meta[key] { return known }
        let value = try readMeta(key)
        state.meta[key] = value
        return value
    }

    func setMeta(_ key: MetaKey, _ value: String) throws {
        try writeMeta(key, value)
        state.meta[key] = value
    }

    func auditHead() throws -> AuditHead? {
        if let known = state.head { return known }
        let head = try readAuditHead()
        state.head = head
        return head
    }

    func appendAudit(_ event: AuditEvent, head: AuditHead) throws {
        state.events.append(event)
        state.head = head
        state.headMoved = true
    }

    func pruneAudit(through id: Int64, head: AuditHead) throws {
        try insertPendingEvents()
        try deleteAuditEvents(through: id)
        state.head = head
        state.headMoved = true
    }

    func auditEvents(ids range: ClosedRange<Int64>) throws -> [AuditEvent] {
        try insertPendingEvents()
        return try readAuditEvents(ids: range)
    }

    func auditEvents(matching query: AuditQuery) throws -> [AuditEvent] {
        try insertPendingEvents()
        return try readAuditEvents(matching: query)
    }

    private func insertPendingEvents() throws {
        guard !state.events.isEmpty else { return }
        try insertAuditEvents(state.events)
        state.events = []
    }

    /// Writes what the transaction kept back until COMMIT: its events, in
    /// one statement, and the audit head, once.
    func finish() throws {
        try insertPendingEvents()
        guard state.headMoved, let head = state.head ?? nil else { return }
        try writeAuditHead(head)
        state.headMoved = false
    }

    func columns(of table: String) throws -> [(name: String, kind: SQLColumnKind)] {
        try fetch(
            """
            SELECT column_name, data_type FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position
            """, [table]
        ) { row in
            let type: String = row[1]
            let kind: SQLColumnKind =
                type == "bigint" || type == "integer" || type == "smallint"
                ? .integer : type == "bytea" ? .bytes : .text
            return (row[0], kind)
        }
    }

    func followInsertedKeys(of table: String) throws {
        guard let sequence: String = try value("SELECT pg_get_serial_sequence(?, 'id')", [table]) else { return }
        try execute(
            sql:
                "SELECT setval(?, GREATEST((SELECT COALESCE(max(id), 0) FROM \"\(table)\"), 1), (SELECT count(*) > 0 FROM \"\(table)\"))",
            arguments: [sequence])
    }

    /// A row's cells: integers, text, bytes or NULL.
    static func row(_ row: PostgresRow) throws -> SQLRow {
        SQLRow(
            SQLCells(
                try row.map { cell -> SQLCell in
                    guard cell.bytes != nil else { return .null }
                    switch cell.dataType {
                    case .int8, .int4, .int2, .oid: return .int(try cell.decode(Int64.self))
                    case .bool: return .int(try cell.decode(Bool.self) ? 1 : 0)
                    case .bytea: return .bytes(Data(try cell.decode(ByteBuffer.self).readableBytesView))
                    case .numeric: return .int(Int64(try cell.decode(String.self)) ?? 0)
                    default: return .text(try cell.decode(String.self))
                    }
                }))
    }

    /// `?` → `$n`, outside quoted text.
    static func numbered(_ sql: String) -> String {
        var out = ""
        out.reserveCapacity(sql.utf8.count + 16)
        var index = 0
        var quoted = false
        for character in sql {
            if character == "'" { quoted.toggle() }
            if character == "?", !quoted {
                index += 1
                out += "$\(index)"
            } else {
                out.append(character)
            }
        }
        return out
    }
}
