import Crypto
import Foundation
import RotorCore
import RotorSQLite

/// A fresh, initialised database with its key in a temporary directory.
public struct TestDatabase: Sendable {
    public let directory: TemporaryDirectory
    public let store: SQLiteStore
    public let ledger: Ledger
    public let clock: InstantClock

    public var path: String { directory.file("rotor.db") }
    public var keyFile: String { directory.file("rotor.db.key") }

    public init(clock: InstantClock = InstantClock(), actor: String = "test@host", busyTimeout: TimeInterval = 15)
        async throws
    {
        directory = TemporaryDirectory()
        self.clock = clock
        store = try SQLiteStore.open(path: directory.file("rotor.db"), create: true, busyTimeout: busyTimeout)
        ledger = try await Ledger.initialize(
            store: store, key: .file(directory.file("rotor.db.key")), clock: clock, actor: actor
        ).ledger
    }

    public var registry: AppRegistry { AppRegistry(ledger: ledger, checker: nil) }

    /// Registers an app without asking the vendor.
    @discardableResult
    public func addApp(_ name: String, secret: String = "s3cret-\(UUID().uuidString)", schedule: Schedule = .none)
        async throws -> AppRecord
    {
        try await registry.add(
            AppSpec(
                name: name, applicationID: "app-\(name)", clientID: "client-\(name)", clientSecret: Secret(secret),
                schedule: schedule),
            verify: false)
    }
}

/// SHA-256 of a file's bytes, hex; nil if it does not exist.
public func fileDigest(_ path: String) -> String? {
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    return Hex.encode(Array(data).sha256())
}

extension Array where Element == UInt8 {
    func sha256() -> [UInt8] { Array(SHA256.hash(data: self)) }
}

/// Holds the database's write lock from another connection for `seconds`,
/// as another process would. The wait runs on a thread of its own, so the
/// concurrency pool (and the code under test) keeps running meanwhile.
public func holdWriteLock(on path: String, for seconds: TimeInterval) async throws {
    let store = try SQLiteStore.open(path: path)
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
        Thread.detachNewThread {
            continuation.resume(
                with: Result {
                    try store.withConnection { db in
                        try db.execute(sql: "BEGIN IMMEDIATE")
                        Thread.sleep(forTimeInterval: seconds)
                        try db.execute(sql: "ROLLBACK")
                    }
                })
        }
    }
}
