import Foundation
import GRDB
import RotorCore

/// A temporary working directory and the built binary, for end-to-end tests.
public struct CLIHarness: Sendable {
    public let directory: TemporaryDirectory
    public var rotor: RotorProcess
    /// The PostgreSQL database the commands use, when not the SQLite file ``db``.
    public let postgres: SharedPostgres.Database?

    public var db: String { directory.file("rotor.db") }
    public var keyFile: String { directory.file(postgres == nil ? "rotor.db.key" : "rotor.key") }

    public init(environment: [String: String] = [:]) {
        directory = TemporaryDirectory("rotor-cli")
        chmod(directory.path, 0o755)
        rotor = RotorProcess(directory: directory.path, environment: environment)
        postgres = nil
    }

    private init(directory: TemporaryDirectory, rotor: RotorProcess, postgres: SharedPostgres.Database?) {
        self.directory = directory
        self.rotor = rotor
        self.postgres = postgres
    }

    /// A harness whose commands keep their data in `backend`: the SQLite
    /// file ``db``, or a database of its own on the shared PostgreSQL
    /// server, named by `ROTOR_DB` without a password (`PGPASSWORD` has
    /// it), the key in `ROTOR_KEY_FILE` and spill files in the directory.
    public static func on(_ backend: CLIBackend, environment: [String: String] = [:]) async throws -> CLIHarness {
        switch backend {
        case .sqlite:
            return CLIHarness(environment: environment)
        case .postgres:
            let database = try await SharedPostgres.shared.database()
            return try await on(database, environment: environment)
        }
    }

    /// A harness on `database` (another test's, or a server of the test's own).
    public static func on(_ database: SharedPostgres.Database, environment: [String: String] = [:]) async throws
        -> CLIHarness
    {
        let directory = TemporaryDirectory("rotor-cli")
        chmod(directory.path, 0o755)
        var settings = [
            "ROTOR_DB": database.urlWithoutPassword, "PGPASSWORD": PostgresServer.password,
            "ROTOR_KEY_FILE": directory.file("rotor.key"), "ROTOR_SPILL_DIR": directory.path,
        ]
        for (key, value) in environment { settings[key] = value }
        return CLIHarness(
            directory: directory, rotor: RotorProcess(directory: directory.path, environment: settings),
            postgres: database)
    }

    /// `rotor init`, which must succeed.
    @discardableResult
    public func initialize() async throws -> RotorProcess.Result {
        try await expectSuccess(["init"])
    }

    /// `rotor app add NAME … --no-verify` with the secret on stdin.
    @discardableResult
    public func addApp(_ name: String, secret: String, extra: [String] = []) async throws -> RotorProcess.Result {
        try await expectSuccess(
            [
                "app", "add", name, "--application-id", "app-\(name)", "--client-id", "client-\(name)",
                "--client-secret-stdin", "--no-verify",
            ] + extra,
            stdin: secret + "\n")
    }

    /// Registers the sandbox's demo application as `name`, verified against the sandbox.
    @discardableResult
    public func addApp(_ name: String, from sandbox: SandboxFixture, extra: [String] = []) async throws
        -> RotorProcess.Result
    {
        try await expectSuccess(
            [
                "app", "add", name, "--application-id", sandbox.application.id, "--client-id",
                sandbox.application.clientID, "--client-secret-stdin", "--api-url", sandbox.url,
            ] + extra,
            stdin: sandbox.application.clientSecret + "\n")
    }

    /// Runs and throws unless the exit status is 0.
    @discardableResult
    public func expectSuccess(_ arguments: [String], stdin: String = "") async throws -> RotorProcess.Result {
        let result = try await rotor.run(arguments, stdin: stdin)
        guard result.status == 0 else {
            throw RotorError(.io, "rotor \(arguments.joined(separator: " ")) failed: \(result)")
        }
        return result
    }

    @discardableResult
    public func run(_ arguments: [String], stdin: String = "") async throws -> RotorProcess.Result {
        try await rotor.run(arguments, stdin: stdin)
    }

    /// Digests of the database and the key file, for "changes nothing".
    ///
    /// A WAL is checkpointed into the database first: whether the last
    /// process to close it did so depends on timing (another reader still
    /// open), so the files alone would differ with no change of content.
    /// Without a WAL nothing is opened (a missing or foreign file stays as it is).
    public func snapshot() -> [String?] {
        if FileManager.default.fileExists(atPath: db + "-wal"), let queue = try? DatabaseQueue(path: db) {
            _ = try? queue.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
            try? queue.close()
        }
        return [db, db + "-wal", keyFile].map(fileDigest)
    }
}
