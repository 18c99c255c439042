import Foundation
import Logging
import PostgresNIO
import RotorCore
import RotorSQL

/// ``RotorSQL/SQLTransaction`` over one PostgreSQL connection inside a
/// transaction: the queries are RotorSQL's; this supplies PostgreSQL's
/// primitives. The body of a transaction is synchronous (``RotorCore/Store``):
/// each statement waits for its answer on the store's own thread, never on
/// an event loop or a thread of Swift's pool.
struct PostgresTransaction: SQLTransaction {
    let connection: PostgresConnection
    let state: State

    /// What the last statement reported.
    final class State: @unchecked Sendable {
        var changesCount = 0
    }

    static let logger = Logger(label: "rotor.postgres")

    /// Runs one statement; `?` placeholders become `$1`, `$2`, … in order.
    @discardableResult
    func run(_ sql: String, _ arguments: StatementArguments) throws -> PostgresQueryResult {
        var bindings = PostgresBindings(capacity: arguments.count)
        for argument in arguments {
            switch argument.cell {
            case .null: bindings.appendNull()
            case .int(let value): bindings.append(value)
            case .text(let value): bindings.append(value)
            case .bytes(let value): bindings.append(ByteBuffer(bytes: value))
            }
        }
        let result = try connection.query(
            PostgresQuery(unsafeSQL: Self.numbered(sql), binds: bindings), logger: Self.logger
        ).wait()
        state.changesCount = result.metadata.rows ?? 0
        return result
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

    /// Instances on other hosts share the database: whether an owner's
    /// process runs here means nothing, so a lease is taken over only once it expires.
    func leaseOwnerIsGone(_ owner: String) -> Bool { false }

    func hasTable(_ name: String) throws -> Bool {
        let count: Int64 =
            try value(
                "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = ?", [name]) ?? 0
        return count > 0
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
