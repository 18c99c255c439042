import ArgumentParser
import Foundation
import RotorCore
import RotorPostgres
import RotorSQLite

/// `--db` and the master key's source, on every command.
struct GlobalOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The SQLite database, or a postgres:// URL (env ROTOR_DB; default rotor.db).", valueName: "path|url"))
    var db: String?

    @Option(
        name: .customLong("spill-dir"),
        help: ArgumentHelp(
            "Where a new pair that cannot be committed is kept, sealed (env ROTOR_SPILL_DIR; default: beside a SQLite database; for PostgreSQL $STATE_DIRECTORY, else the working directory).",
            valueName: "path"))
    var spillDir: String?

    @Option(
        name: .customLong("key-file"),
        help: ArgumentHelp(
            "The master key file (env ROTOR_KEY_FILE; default: the systemd credential rotor.key if $CREDENTIALS_DIRECTORY has one, else the database path + .key).",
            valueName: "path"))
    var keyFile: String?

    @Option(
        name: .customLong("key-command"),
        help: ArgumentHelp(
            "A command (run with /bin/sh -c) whose stdout is the master key file's text, e.g. from a secret manager (env ROTOR_KEY_COMMAND).",
            valueName: "command"))
    var keyCommand: String?

    @Option(
        name: .customLong("node"),
        help: ArgumentHelp(
            "This process's name among the instances sharing the database, in lease owners, audit actors, status and metrics (env ROTOR_NODE; default the host's name).",
            valueName: "name"))
    var node: String?

    @Flag(help: "Log each step to stderr (at debug level; ROTOR_LOG_FORMAT applies).")
    var verbose = false

    private static var environment: [String: String] { ProcessInfo.processInfo.environment }

    private static func setting(_ name: String) -> String? {
        environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    var databasePath: String {
        db ?? Self.setting("ROTOR_DB") ?? "rotor.db"
    }

    /// Where `--db` points: a SQLite file, or a PostgreSQL database whose
    /// URL is checked (its password never shown) and which needs a master
    /// key from somewhere other than the implicit `<db>.key`.
    var location: DatabaseLocation {
        get throws {
            let path = databasePath
            guard case .postgres(let location) = try DatabaseLocation(path) else { return .sqlite(path) }
            // The implicit key of a file database, `<db>.key`, means nothing for a URL.
            if try keySource == .file(path + ".key") {
                throw RotorError(
                    .invalidInput,
                    "--db \(location) has no <db>.key default: give the master key with --key-file, --key-command or the systemd credential rotor.key (every instance uses the same key)"
                )
            }
            return .postgres(location)
        }
    }

    /// What `--db` names, for messages: a path, or the URL without its password.
    var databaseName: String {
        get throws { try location.description }
    }

    /// The base name spill files are written beside (`<base>.spill-<id>`):
    /// the SQLite database itself, or for PostgreSQL a name for the database
    /// in `--spill-dir`, so that several databases spill apart.
    var spillBase: String {
        get throws {
            let directory = spillDir ?? Self.setting("ROTOR_SPILL_DIR")
            switch try location {
            case .sqlite(let path):
                guard let directory else { return path }
                return "\(directory)/\(URL(fileURLWithPath: path).lastPathComponent)"
            case .postgres(let location):
                let base = directory ?? Self.setting("STATE_DIRECTORY") ?? FileManager.default.currentDirectoryPath
                return "\(base)/\(location.spillName)"
            }
        }
    }

    /// `--node` or `ROTOR_NODE`, when given.
    var nodeName: String? { node ?? Self.setting("ROTOR_NODE") }

    /// Applies `--node` (or `ROTOR_NODE`) to this process's lease owners and actors.
    func applyNode() throws {
        guard let name = nodeName else { return }
        guard (1...64).contains(name.count),
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-:".contains($0)) })
        else {
            throw RotorError(
                .invalidInput,
                "--node \(UserText.quoted(name)) is not a node name: 1 to 64 letters, digits, '.', '_', '-' or ':'")
        }
        LeaseOwner.setNode(name)
    }

    /// Opens the store `--db` names; `create` makes a missing SQLite file
    /// (a PostgreSQL database is created by its administrator; `rotor init`
    /// creates the schema in it).
    func openStore(create: Bool = false) async throws -> any Store {
        try applyNode()
        return try await open(location, create: create)
    }

    /// Opens the store at `location` (`store copy`'s destination, a backup file).
    func open(_ location: DatabaseLocation, create: Bool) async throws -> any Store {
        switch location {
        case .sqlite(let path):
            return try OpenStores.register(SQLiteStore.open(path: path, create: create, busyTimeout: try busyTimeout))
        case .postgres(let location):
            return try await OpenStores.register(PostgresStore.open(location))
        }
    }

    /// `--key-command` and `--key-file` (or their variables) name one source;
    /// an option beats a variable, and both options at once is a usage error.
    var keySource: MasterKeySource {
        get throws {
            if keyCommand != nil, keyFile != nil {
                throw RotorError(.invalidInput, "--key-command and --key-file both name the master key; pass one")
            }
            if let keyCommand { return .command(keyCommand, timeout: MasterKeySource.commandTimeout) }
            if let keyFile { return .file(keyFile) }
            if let command = Self.setting("ROTOR_KEY_COMMAND") {
                return .command(command, timeout: MasterKeySource.commandTimeout)
            }
            if let file = Self.setting("ROTOR_KEY_FILE") { return .file(file) }
            return .implicit(databasePath: databasePath, environment: Self.environment)
        }
    }

    /// How long a write waits for another process's lock (env
    /// `ROTOR_BUSY_TIMEOUT`, seconds; default 15).
    var busyTimeout: TimeInterval {
        get throws(RotorError) {
            guard let text = Self.setting("ROTOR_BUSY_TIMEOUT") else { return SQLiteStore.defaultBusyTimeout }
            return try SQLiteStore.busyTimeout(parsing: text, option: "ROTOR_BUSY_TIMEOUT")
        }
    }

    /// Opens the database with its key, reporting on stderr anything that
    /// was repaired on the way.
    func openLedger(actor: String = ProcessHardening.actor()) async throws -> Ledger {
        if verbose { try LogOptions.parse([]).bootstrap(defaultLevel: .debug) }
        let source = try keySource
        let store = try await openStore()
        var notices: [String] = []
        let ledger = try await Ledger.open(
            store: store, key: source, clock: SystemClock(), actor: actor, notices: &notices)
        for notice in notices { Console.note(notice) }
        return ledger
    }
}

/// The kind of database `--db` names.
enum DatabaseLocation: CustomStringConvertible {
    case sqlite(String)
    case postgres(PostgresLocation)

    /// Whether instances on several hosts may share it.
    var isShared: Bool {
        if case .postgres = self { return true }
        return false
    }

    /// A path or a `postgres://` URL (checked; its password never shown).
    init(_ path: String) throws {
        self = PostgresLocation.isURL(path) ? .postgres(try PostgresLocation(url: path)) : .sqlite(path)
    }

    var description: String {
        switch self {
        case .sqlite(let path): path
        case .postgres(let location): location.description
        }
    }
}

/// Reads a secret from stdin or a file, never from the command line.
struct SecretSource {
    var fromStdin: Bool
    var file: String?
    var option: String

    /// nil when neither source was given.
    func read() throws -> RotorCore.Secret? {
        if fromStdin {
            return try Validate.secret(Console.readSecretFromStdin(prompt: "\(option): "), source: "stdin")
        }
        if let file {
            let bytes: [UInt8]
            do {
                bytes = try Files.read(file, limit: 65536)
            } catch {
                throw RotorError(.invalidInput, "\(error)")
            }
            return try Validate.secret(bytes, source: file)
        }
        return nil
    }
}

/// The stores this process opened, closed before it exits: a process may not
/// end while a commit thread still holds the database, and the last one to
/// close moves SQLite's WAL into the database file.
enum OpenStores {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var stores: [any Store] = []

    static func register<S: Store>(_ store: S) -> S {
        lock.withLock { stores.append(store) }
        return store
    }

    /// Closes every store opened so far; a store that cannot be closed is left (its commits are durable).
    static func closeAll() async {
        let open = lock.withLock {
            defer { stores = [] }
            return stores
        }
        for store in open { try? await store.close() }
    }
}
