import Foundation
import RotorCore
import RotorPostgres
import RotorSQLite

/// A storage backend the store contract suite runs against
/// (`Tests/RotorTests/Store/StoreContractTests.swift`): how to make a fresh,
/// initialised database of its kind. Every backend passes the suite
/// unchanged; a new one is added to ``all``.
public struct StoreBackend: Sendable, CustomStringConvertible {
    public var name: String
    public var make: @Sendable (InstantClock) async throws -> StoreUnderTest

    public var description: String { name }

    public static let sqlite = StoreBackend(name: "sqlite") { clock in
        let db = try await TestDatabase(clock: clock)
        return StoreUnderTest(ledger: db.ledger, keep: db) {
            try SQLiteStore.open(path: db.path)
        }
    }

    /// A database of its own on a real PostgreSQL server shared by the tests running at once (``SharedPostgres``).
    public static let postgres = StoreBackend(name: "postgres") { clock in
        let database = try await SharedPostgres.shared.database()
        let location = try PostgresLocation(url: database.url, environment: [:])
        let store = try await PostgresStore.open(location)
        let key = TemporaryDirectory("rotor-postgres-key")
        let ledger = try await Ledger.initialize(
            store: store, key: .file(key.file("rotor.key")), clock: clock, actor: "test@host"
        ).ledger
        return StoreUnderTest(ledger: ledger, keep: [database, key] as [any Sendable]) {
            try await PostgresStore.open(location)
        }
    }

    public static let all: [StoreBackend] = [.sqlite, .postgres]
}

/// A fresh database of one backend, with its key and a clock the test moves.
public struct StoreUnderTest: Sendable {
    public let ledger: Ledger
    /// What the database's files or server live on while the test runs.
    let keep: any Sendable
    /// A second handle on the same database, as another process opens it.
    public let openAnother: @Sendable () async throws -> any Store

    init(ledger: Ledger, keep: any Sendable, openAnother: @escaping @Sendable () async throws -> any Store) {
        self.ledger = ledger
        self.keep = keep
        self.openAnother = openAnother
    }

    public var store: any Store { ledger.store }
    public var registry: AppRegistry { AppRegistry(ledger: ledger, checker: nil) }

    /// Registers an app without asking the vendor.
    @discardableResult
    public func addApp(_ name: String, secret: String = "s3cret-\(UUID().uuidString)") async throws -> AppRecord {
        try await registry.add(
            AppSpec(
                name: name, applicationID: "app-\(name)", clientID: "client-\(name)", clientSecret: Secret(secret),
                schedule: .every(seconds: 3600)),
            verify: false)
    }
}

/// Where the built binary keeps its data in an end-to-end test
/// (``CLIHarness/on(_:environment:)``): the tests that must hold on every
/// backend take each of ``allCases`` as an argument.
public enum CLIBackend: String, Sendable, CaseIterable, CustomStringConvertible {
    case sqlite, postgres

    public var description: String { rawValue }
}
