import Foundation
import GRDB
import RotorCore

/// ``RotorCore/StoreWriter`` over one GRDB connection inside a transaction.
struct SQLiteTransaction: StoreWriter {
    let db: Database

    /// Rows mapped one by one from a cursor, which reads each column straight
    /// from the statement (no copied rows, no by-name lookups).
    func fetch<T>(
        _ sql: String, _ arguments: StatementArguments = [], reserving capacity: Int = 0, _ map: (Row) throws -> T
    ) throws -> [T] {
        var out: [T] = []
        out.reserveCapacity(capacity)
        let rows = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments)
        while let row = try rows.next() { out.append(try map(row)) }
        return out
    }

    /// The first row of a statement prepared once per connection, mapped
    /// while SQLite still holds it (read positionally, never copied).
    func one<T>(_ sql: String, _ arguments: StatementArguments = [], _ map: (Row) throws -> T) throws -> T? {
        let rows = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments)
        return try withExtendedLifetime(rows) { try rows.next().map(map) }
    }

    /// The first column of the first row; nil when there is no row or it is NULL.
    func value<T: DatabaseValueConvertible>(_ sql: String, _ arguments: StatementArguments = []) throws -> T? {
        try one(sql, arguments) { row -> T? in row[0] } ?? nil
    }

    /// Runs a statement prepared once per connection and reused.
    func execute(sql: String, arguments: StatementArguments = []) throws {
        try db.cachedStatement(sql: sql).execute(arguments: arguments)
    }

    // MARK: meta

    func meta(_ key: MetaKey) throws -> String? {
        do {
            return try value("SELECT value FROM meta WHERE key = ?", [key.rawValue]) as String?
        } catch let error as DatabaseError where error.message?.hasPrefix("no such table") == true {
            return nil  // a database not initialised yet
        }
    }

    func setMeta(_ key: MetaKey, _ value: String) throws {
        try execute(
            sql: "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            arguments: [key.rawValue, value])
    }
}

extension Date {
    /// Unix milliseconds, as the schema stores times.
    var millis: Int64 { unixMilliseconds }

    init(millis: Int64) {
        self.init(timeIntervalSince1970: TimeInterval(millis) / 1000)
    }
}
