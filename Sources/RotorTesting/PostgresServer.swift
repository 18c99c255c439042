import Foundation
import RotorCore
import Synchronization

/// A real PostgreSQL server for tests (postgres.md, "Tests"): Debian's
/// binaries, a cluster made with `initdb` in a temporary directory, served
/// on a loopback port and a socket in that directory, run as a child of the
/// test process and stopped with ``stop()``. The superuser is `rotor`; the socket trusts local users,
/// TCP asks for ``password`` (SCRAM), so the password paths are exercised.
/// As root, the cluster belongs to the `postgres` user (initdb refuses root).
public final class PostgresServer: Sendable {
    public let directory: TemporaryDirectory
    public let port: Int
    public let binaries: String
    private let server = Mutex<Process?>(nil)
    public static let user = "rotor"
    public static let password = "rotor-test-password"

    /// The data directory.
    public var data: String { directory.file("data") }

    private init(directory: TemporaryDirectory, port: Int, binaries: String) {
        self.directory = directory
        self.port = port
        self.binaries = binaries
    }

    deinit {
        // A server not stopped with stop() (a contract test's store lets it go):
        // an immediate shutdown, which takes the backends with it, awaited
        // before the directory is removed.
        if let process = server.withLock({ $0 }), process.isRunning {
            kill(process.processIdentifier, SIGQUIT)
            process.waitUntilExit()
        }
    }

    /// The directory of Debian's PostgreSQL programs, the newest version first; nil when none is installed.
    public static var installed: String? {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return versions.compactMap(Int.init).sorted(by: >).map { "\(root)/\($0)/bin" }
            .first { FileManager.default.isExecutableFile(atPath: "\($0)/initdb") }
    }

    /// A URL for `database` over TCP, with the password.
    public func url(_ database: String) -> String {
        "postgres://\(Self.user):\(Self.password)@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    /// `initdb`, then the server on a free loopback port. With `tls`, it
    /// also serves TLS with a certificate for `localhost` and 127.0.0.1
    /// signed by a certificate authority of its own, ``certificateAuthority``.
    /// With `fsync`, commits reach the disk as in production (the tests' servers skip it).
    public static func start(tls: Bool = false, fsync: Bool = false) async throws -> PostgresServer {
        guard let binaries = installed else {
            throw RotorError(.io, "PostgreSQL is not installed: apt-get install postgresql (.ci/run does)")
        }
        let directory = TemporaryDirectory("rotor-postgres")
        chmod(directory.path, 0o755)
        try directory.write("password", password + "\n", mode: 0o644)
        let owner = getuid() == 0 ? getpwnam("postgres") : nil
        if getuid() == 0, owner == nil {
            throw RotorError(.io, "as root, the cluster needs the postgres user that Debian's package creates")
        }
        if let owner { chown(directory.path, owner.pointee.pw_uid, owner.pointee.pw_gid) }
        let server = PostgresServer(directory: directory, port: 0, binaries: binaries)
        _ = try await server.command(
            "\(binaries)/initdb",
            [
                "-D", server.data, "-U", user, "--auth-local=trust", "--auth-host=scram-sha-256",
                "--pwfile=\(directory.file("password"))", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8",
            ])
        if tls { try await server.makeCertificates() }
        if fsync { try directory.write("fsync", "on\n", mode: 0o644) }
        for _ in 0..<10 {
            let started = PostgresServer(
                directory: directory, port: Int.random(in: 20000...60000), binaries: binaries)
            if try await started.launch() { return started }
        }
        throw RotorError(.io, "no free port found for PostgreSQL")
    }

    /// The PEM file of the certificate authority that signed a TLS server's certificate.
    public var certificateAuthority: String { directory.file("ca.pem") }

    private var servesTLS: Bool { FileManager.default.fileExists(atPath: directory.file("server.pem")) }

    /// A certificate authority and the server's certificate and key, made with openssl.
    private func makeCertificates() async throws {
        let script = """
            set -e
            openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=rotor-test-ca -keyout ca.key -out ca.pem 2>/dev/null
            openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key -out server.csr 2>/dev/null
            printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > san.ext
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext -out server.pem 2>/dev/null
            chmod 600 server.key; chmod 644 ca.pem server.pem
            """
        _ = try await command("/bin/sh", ["-c", script])
    }

    /// Starts the server on ``port`` and waits until it answers; false
    /// when the port was taken.
    private func launch() async throws -> Bool {
        // The server is this process's child, not pg_ctl's daemon: the test owns it and stops it.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: getuid() == 0 ? "/usr/bin/setpriv" : "\(binaries)/postgres")
        process.arguments =
            (getuid() == 0
                ? ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", "\(binaries)/postgres"] : [])
            + [
                "-D", data, "-p", "\(port)", "-k", directory.path, "-c", "listen_addresses=127.0.0.1",
                "-c", "fsync=\(FileManager.default.fileExists(atPath: directory.file("fsync")) ? "on" : "off")",
                "-c", "max_connections=200",
            ]
            + (servesTLS
                ? [
                    "-c", "ssl=on", "-c", "ssl_cert_file=\(directory.file("server.pem"))",
                    "-c", "ssl_key_file=\(directory.file("server.key"))",
                ] : [])
        let log = directory.file("server.log")
        if !FileManager.default.fileExists(atPath: log) {
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            chmod(log, 0o666)
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try handle.seekToEnd()
        let start = try handle.offset()
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? handle.close()
        server.withLock { $0 = process }
        for _ in 0..<1200 where process.isRunning {
            let ready = try await command(
                "\(binaries)/pg_isready", ["-q", "-h", directory.path, "-p", "\(port)"], check: false)
            if ready.status == 0 { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        try await stop()
        let text = String(
            decoding: (FileManager.default.contents(atPath: log) ?? Data()).dropFirst(Int(start)), as: UTF8.self)
        guard text.contains("could not bind") || text.contains("Address already in use") else {
            throw RotorError(.io, "PostgreSQL did not start: \(text.suffix(2000))")
        }
        return false
    }

    /// Stops the server (a fast shutdown) and starts it again on the same
    /// port and data: what clients see when the database restarts.
    public func restart() async throws {
        try await stop()
        guard try await launch() else { throw RotorError(.io, "PostgreSQL could not take its port \(port) again") }
    }

    /// Runs SQL with psql over the socket as the superuser; its output, one row a line.
    @discardableResult
    public func psql(_ database: String, _ sql: String) async throws -> String {
        try await command(
            "\(binaries)/psql",
            [
                "-h", directory.path, "-p", "\(port)", "-U", Self.user, "-d", database, "-X", "-A", "-t",
                "-v", "ON_ERROR_STOP=1", "-c", sql,
            ]
        ).output
    }

    /// A new, empty database.
    public func createDatabase(_ name: String) async throws {
        try await psql("postgres", "CREATE DATABASE \"\(name)\"")
    }

    /// A fast shutdown (SIGINT), then SIGKILL if it has not ended within a
    /// minute; afterwards nothing of the server runs.
    public func stop() async throws {
        guard let process = server.withLock({ $0 }) else { return }
        if process.isRunning { kill(process.processIdentifier, SIGINT) }
        for _ in 0..<600 where process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// The postmaster's process ID while the server runs.
    public var pid: Int32? {
        server.withLock { process in process.flatMap { $0.isRunning ? $0.processIdentifier : nil } }
    }

    struct Output {
        var status: Int32
        var output: String
    }

    /// Runs a PostgreSQL program, as the `postgres` user when this process is root.
    private func command(_ program: String, _ arguments: [String], check: Bool = true) async throws -> Output {
        let process = Process()
        if getuid() == 0 {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", program] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = arguments
        }
        process.environment = ["PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PGPASSWORD": Self.password]
        process.currentDirectoryURL = URL(fileURLWithPath: directory.path)
        // A file, not a pipe: the postmaster pg_ctl starts must not hold our end open.
        let log = directory.file("command.out")
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        chmod(log, 0o666)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        defer { try? handle.close() }
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        process.waitUntilExit()
        let data = FileManager.default.contents(atPath: log) ?? Data()
        let result = Output(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
        if check, result.status != 0 {
            throw RotorError(
                .io,
                "\((program as NSString).lastPathComponent) failed (\(result.status)): \(result.output.suffix(2000))")
        }
        return result
    }
}

/// One PostgreSQL server for the tests that run at the same time, each with
/// a database of its own: a server start costs about a second of both
/// cores, and a suite that started one per test would load the machine its
/// other tests time. The server stops when the last database is let go.
public final class SharedPostgres: Sendable {
    public static let shared = SharedPostgres()

    private struct State {
        var starting: Task<PostgresServer, any Error>?
        var users = 0
        var databases = 0
    }

    private let state = Mutex(State())

    /// A database of its own on the shared server, kept while the returned value lives.
    public final class Database: Sendable {
        public let server: PostgresServer
        public let name: String
        private let owner: SharedPostgres?

        init(server: PostgresServer, name: String, owner: SharedPostgres?) {
            self.server = server
            self.name = name
            self.owner = owner
        }

        /// A new database on a server of the test's own (one it may stop and restart).
        public static func create(on server: PostgresServer, name: String = "rotor") async throws -> Database {
            try await server.createDatabase(name)
            return Database(server: server, name: name, owner: nil)
        }

        public var url: String { server.url(name) }
        /// ``url`` without the password, which `PGPASSWORD` then gives.
        public var urlWithoutPassword: String {
            url.replacingOccurrences(of: ":\(PostgresServer.password)@", with: "@")
        }

        deinit { owner?.release() }
    }

    public func database() async throws -> Database {
        let (task, name) = state.withLock { state -> (Task<PostgresServer, any Error>, String) in
            let task = state.starting ?? Task { try await PostgresServer.start() }
            state.starting = task
            state.users += 1
            state.databases += 1
            return (task, "rotor_\(state.databases)")
        }
        do {
            let server = try await task.value
            try await server.createDatabase(name)
            return Database(server: server, name: name, owner: self)
        } catch {
            release()
            throw error
        }
    }

    /// The last user gone, the server goes with the last reference to it (``PostgresServer`` stops it then).
    fileprivate func release() {
        state.withLock { state in
            state.users -= 1
            if state.users == 0 { state.starting = nil }
        }
    }
}
