import Foundation
import GRDB
import RotorCore
import RotorSQL

/// ``RotorSQL/SQLTransaction`` over one GRDB connection inside a
/// transaction: the queries are RotorSQL's; this supplies SQLite's
/// primitives, with every statement prepared once per connection and rows
/// read from a cursor, column by column, without copying the row.
struct SQLiteTransaction: SQLTransaction {
    let db: Database

    func rows(_ sql: String, _ arguments: RotorSQL.StatementArguments, _ body: (SQLRow) throws -> Void) throws {
        let cursor = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: Self.arguments(arguments))
        while let row = try cursor.next() { try body(SQLRow(Columns(row: row))) }
    }

    func execute(sql: String, arguments: RotorSQL.StatementArguments) throws {
        try db.cachedStatement(sql: sql).execute(arguments: Self.arguments(arguments))
    }

    func lastInsertedRowID() throws -> Int64 { db.lastInsertedRowID }

    var changesCount: Int { db.changesCount }

    /// The id AUTOINCREMENT would give, taken under the write lock this transaction holds.
    func nextRotationID() throws -> Int64 {
        try Int64.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'rotations'), 0),
                        COALESCE((SELECT MAX(id) FROM rotations), 0)) + 1
                    """)) ?? 1
    }

    /// Every process that shares the file runs on this host, so an owner
    /// process that no longer runs is known to be gone.
    func leaseOwnerIsGone(_ owner: String) -> Bool { LeaseOwner.isStale(owner) }

    func hasTable(_ name: String) throws -> Bool {
        try Bool.fetchOne(
            db.cachedStatement(sql: "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"),
            arguments: [name]) ?? false
    }

    func columns(of table: String) throws -> [(name: String, kind: SQLColumnKind)] {
        try Row.fetchAll(db, sql: "SELECT name, type FROM pragma_table_info(?) ORDER BY cid", arguments: [table]).map {
            row in
            let type = (row["type"] as String? ?? "").uppercased()
            let kind: SQLColumnKind = type.contains("INT") ? .integer : type.contains("BLOB") ? .bytes : .text
            return (row["name"], kind)
        }
    }

    func followInsertedKeys(of table: String) throws {}

    static func arguments(_ arguments: RotorSQL.StatementArguments) -> GRDB.StatementArguments {
        GRDB.StatementArguments(
            arguments.map { argument -> DatabaseValue in
                switch argument.cell {
                case .null: .null
                case .int(let value): value.databaseValue
                case .text(let value): value.databaseValue
                case .bytes(let value): value.databaseValue
                }
            })
    }

    /// The cursor's current row, each column decoded by GRDB in the kind asked for.
    struct Columns: SQLRowSource {
        let row: Row

        func isNull(_ index: Int) -> Bool { row.hasNull(atIndex: index) }
        func int(_ index: Int) -> Int64? { row[index] as Int64? }
        func text(_ index: Int) -> String? { row[index] as String? }
        func bytes(_ index: Int) -> Data? { row[index] as Data? }
    }
}
