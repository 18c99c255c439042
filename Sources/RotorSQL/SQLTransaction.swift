import Foundation
import RotorCore

/// The store's queries, written once for every SQL backend (SQLite and
/// PostgreSQL): a backend's transaction supplies a handful of primitives
/// (run a statement, stream its rows, the last inserted ID, how many rows
/// the last statement changed, and the few things the databases do
/// differently), and gets every ``RotorCore/StoreWriter`` operation from the
/// extensions in this module. Statements use `?` placeholders; flags are
/// 0/1 integers and times Unix milliseconds in both schemas.
public protocol SQLTransaction: StoreWriter {
    /// Runs `sql` and calls `body` with each row, in order.
    func rows(_ sql: String, _ arguments: StatementArguments, _ body: (SQLRow) throws -> Void) throws
    func execute(sql: String, arguments: StatementArguments) throws
    /// The ID the last insert into a table with an integer key got.
    func lastInsertedRowID() throws -> Int64
    /// Rows the last statement inserted, changed or deleted.
    var changesCount: Int { get }
    /// The ID the next rotation gets, taken before it is inserted (its token is sealed for it).
    func nextRotationID() throws -> Int64
    /// Whether a lease's owner is known to be gone before its lease expires
    /// (SQLite: a process on this host that no longer runs; never across hosts).
    func leaseOwnerIsGone(_ owner: String) -> Bool
    func hasTable(_ name: String) throws -> Bool
    /// The columns of `table` in order, each with the kind of value it holds (``SQLStoreCopy``).
    func columns(of table: String) throws -> [(name: String, kind: SQLColumnKind)]
    /// After rows were inserted with their own `id`s: the next generated key
    /// follows the largest one (PostgreSQL's identity sequences; SQLite keeps up by itself).
    func followInsertedKeys(of table: String) throws
}

/// The kind of value a column holds, the same in both schemas.
public enum SQLColumnKind: Sendable {
    case integer, text, bytes
}

extension SQLTransaction {
    public func execute(sql: String) throws {
        try execute(sql: sql, arguments: [])
    }

    public func fetch<T>(
        _ sql: String, _ arguments: StatementArguments = [], reserving capacity: Int = 0, _ map: (SQLRow) throws -> T
    ) throws -> [T] {
        var out: [T] = []
        out.reserveCapacity(capacity)
        try rows(sql, arguments) { out.append(try map($0)) }
        return out
    }

    public func one<T>(_ sql: String, _ arguments: StatementArguments = [], _ map: (SQLRow) throws -> T) throws -> T? {
        var first: T?
        try rows(sql, arguments) { row in
            if first == nil { first = try map(row) }
        }
        return first
    }

    /// The first column of the first row; nil when there is no row or it is NULL.
    public func value<T: SQLValue>(_ sql: String, _ arguments: StatementArguments = []) throws -> T? {
        try one(sql, arguments) { row -> T? in row[0] } ?? nil
    }

    public func meta(_ key: MetaKey) throws -> String? {
        try readMeta(key)
    }

    /// `meta`'s statements, for a backend that keeps what it read.
    public func readMeta(_ key: MetaKey) throws -> String? {
        guard try hasTable("meta") else { return nil }  // a database not initialised yet
        return try value("SELECT value FROM meta WHERE key = ?", [key.rawValue]) as String?
    }

    public func setMeta(_ key: MetaKey, _ value: String) throws {
        try writeMeta(key, value)
    }

    public func writeMeta(_ key: MetaKey, _ value: String) throws {
        try execute(
            sql: "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            arguments: [key.rawValue, value])
    }
}

/// One column's value as both databases take it (statement arguments) and
/// as a backend may hold a row it has read whole.
public enum SQLCell: Sendable, Equatable {
    case null
    case int(Int64)
    case text(String)
    case bytes(Data)
}

/// Where a row's columns are read from: a backend reads each column in the
/// kind asked for, straight from its own row (SQLite: the statement's
/// current row, with no copy of the row made).
public protocol SQLRowSource {
    func isNull(_ index: Int) -> Bool
    func int(_ index: Int) -> Int64?
    func text(_ index: Int) -> String?
    func bytes(_ index: Int) -> Data?
}

/// A row read by position.
public struct SQLRow {
    let source: any SQLRowSource

    public init(_ source: any SQLRowSource) {
        self.source = source
    }

    /// The value of column `index`. A column whose kind differs from the
    /// one asked for is a schema this build does not know: it stops the process
    /// rather than read a secret or a state wrong.
    public subscript<T: SQLValue>(_ index: Int) -> T {
        guard let value = T.read(source, index) else {
            preconditionFailure("column \(index) does not hold a \(T.self): the schema and the store disagree")
        }
        return value
    }
}

/// A row held as cells (what a backend that reads whole rows hands over).
public struct SQLCells: SQLRowSource {
    public let cells: [SQLCell]

    public init(_ cells: [SQLCell]) {
        self.cells = cells
    }

    private func cell(_ index: Int) -> SQLCell { index < cells.count ? cells[index] : .null }

    public func isNull(_ index: Int) -> Bool { cell(index) == .null }

    public func int(_ index: Int) -> Int64? {
        if case .int(let value) = cell(index) { return value }
        return nil
    }

    public func text(_ index: Int) -> String? {
        if case .text(let value) = cell(index) { return value }
        return nil
    }

    public func bytes(_ index: Int) -> Data? {
        switch cell(index) {
        case .bytes(let value): value
        case .text(let value): Data(value.utf8)
        default: nil
        }
    }
}

/// A Swift value a column is read as.
public protocol SQLValue {
    static func read(_ row: any SQLRowSource, _ index: Int) -> Self?
}

extension Int64: SQLValue {
    public static func read(_ row: any SQLRowSource, _ index: Int) -> Int64? { row.int(index) }
}

extension Int: SQLValue {
    public static func read(_ row: any SQLRowSource, _ index: Int) -> Int? { row.int(index).map { Int($0) } }
}

extension Bool: SQLValue {
    public static func read(_ row: any SQLRowSource, _ index: Int) -> Bool? { row.int(index).map { $0 != 0 } }
}

extension String: SQLValue {
    public static func read(_ row: any SQLRowSource, _ index: Int) -> String? { row.text(index) }
}

extension Data: SQLValue {
    public static func read(_ row: any SQLRowSource, _ index: Int) -> Data? { row.bytes(index) }
}

extension Optional: SQLValue where Wrapped: SQLValue {
    public static func read(_ row: any SQLRowSource, _ index: Int) -> Wrapped?? {
        if row.isNull(index) { return .some(nil) }
        return Wrapped.read(row, index).map { .some($0) }
    }
}

/// A value bound to a statement.
public protocol SQLArgument {
    var cell: SQLCell { get }
}

public typealias StatementArguments = [any SQLArgument]

extension Array where Element == any SQLArgument {
    /// A list of arguments built from parts (`[a, b] + more + [id]`).
    public static func of(_ arguments: StatementArguments) -> StatementArguments { arguments }
}

extension Int64: SQLArgument {
    public var cell: SQLCell { .int(self) }
}

extension Int: SQLArgument {
    public var cell: SQLCell { .int(Int64(self)) }
}

extension Bool: SQLArgument {
    public var cell: SQLCell { .int(self ? 1 : 0) }
}

extension String: SQLArgument {
    public var cell: SQLCell { .text(self) }
}

extension Data: SQLArgument {
    public var cell: SQLCell { .bytes(self) }
}

extension Optional: SQLArgument where Wrapped: SQLArgument {
    public var cell: SQLCell { self?.cell ?? .null }
}

extension Date {
    /// Unix milliseconds, as the schemas store times.
    public var millis: Int64 { unixMilliseconds }

    public init(millis: Int64) {
        self.init(timeIntervalSince1970: TimeInterval(millis) / 1000)
    }
}
