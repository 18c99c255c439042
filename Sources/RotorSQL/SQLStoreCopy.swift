import Foundation
import RotorCore

extension SQLCell: SQLArgument {
    public var cell: SQLCell { self }
}

/// `rotor store copy` and `rotor backup` from PostgreSQL (cli.md,
/// "Storage"): every row of a Rotor database into an empty one of either
/// SQL backend, keys and all, so that the copy is the same database: the
/// same database ID (its secrets stay sealed with the same master key), the
/// same audit chain, the same IDs. The source is read in one transaction
/// (one consistent snapshot) and the destination written in one, so a copy
/// that fails leaves the destination as empty as it was.
///
/// Leases and nodes are not copied: they belong to the processes running
/// on the source.
public enum SQLStoreCopy {
    /// The tables, parents before the rows that refer to them.
    public static let tables = [
        "meta", "identities", "apps", "rotations", "credentials", "occurrences", "targets", "deliveries",
        "audit_events", "audit_head", "alerts", "alert_outbox", "token_clients", "groups", "group_members",
        "group_targets", "group_deliveries",
    ]

    /// Every row of every table, as read from one transaction.
    public struct Snapshot: Sendable {
        public var tables: [Table]

        public struct Table: Sendable {
            public var name: String
            public var columns: [String]
            public var rows: [[SQLCell]]
        }

        /// Rows per table.
        public var counts: [String: Int] {
            Dictionary(uniqueKeysWithValues: tables.map { ($0.name, $0.rows.count) })
        }
    }

    /// Copies `source` into `destination`, which must hold no Rotor
    /// database yet (its schema is created first); returns the rows copied per table.
    public static func copy(from source: any Store, to destination: any Store) async throws -> [String: Int] {
        try await destination.migrate()
        let empty = try await destination.read { reader in
            let tx = try transaction(reader)
            return try tx.meta(.databaseID) == nil && tx.isEmpty(tables)
        }
        guard empty else {
            throw RotorError(
                .alreadyExists, "the destination already holds a Rotor database; copy only into an empty one")
        }
        // The columns the destination has: the source must have each of them (both at this build's schema).
        let layout = try await destination.read { reader in
            try tables.map { table in try transaction(reader).columns(of: table) }
        }
        let snapshot = try await source.read { reader in
            let tx = try transaction(reader)
            return Snapshot(
                tables: try zip(tables, layout).map { table, columns in
                    try tx.read(table: table, columns: columns)
                })
        }
        try await destination.commit(durable: true) { writer in
            let tx = try transaction(writer)
            for table in snapshot.tables { try tx.insert(table) }
        }
        return snapshot.counts
    }

    static func transaction(_ reader: any StoreReader) throws -> any SQLTransaction {
        guard let tx = reader as? any SQLTransaction else {
            throw RotorError(.invalidInput, "store copy works between SQL databases (SQLite and PostgreSQL) only")
        }
        return tx
    }
}

extension SQLTransaction {
    func isEmpty(_ tables: [String]) throws -> Bool {
        for table in tables where table != "meta" {
            if let count: Int64 = try value("SELECT count(*) FROM \(table)"), count > 0 { return false }
        }
        return true
    }

    func read(table: String, columns: [(name: String, kind: SQLColumnKind)]) throws -> SQLStoreCopy.Snapshot.Table {
        let present = Set(try self.columns(of: table).map(\.name))
        if let missing = columns.first(where: { !present.contains($0.name) }) {
            throw RotorError(
                .databaseInvalid,
                "the source's table \(table) has no column \(missing.name): its schema is not this build's; open it with this rotor first"
            )
        }
        let names = columns.map(\.name)
        let rows = try fetch("SELECT \(names.joined(separator: ", ")) FROM \(table)") { row in
            columns.indices.map { index -> SQLCell in
                let source = row.source
                if source.isNull(index) { return .null }
                switch columns[index].kind {
                case .integer: return source.int(index).map(SQLCell.int) ?? .null
                case .text: return source.text(index).map(SQLCell.text) ?? .null
                case .bytes: return source.bytes(index).map(SQLCell.bytes) ?? .null
                }
            }
        }
        return SQLStoreCopy.Snapshot.Table(name: table, columns: names, rows: rows)
    }

    func insert(_ table: SQLStoreCopy.Snapshot.Table) throws {
        guard !table.rows.isEmpty else { return }
        let placeholders = Array(repeating: "?", count: table.columns.count).joined(separator: ", ")
        let sql = "INSERT INTO \(table.name) (\(table.columns.joined(separator: ", "))) VALUES (\(placeholders))"
        for row in table.rows { try execute(sql: sql, arguments: row) }
        if table.columns.contains("id") { try followInsertedKeys(of: table.name) }
    }
}
