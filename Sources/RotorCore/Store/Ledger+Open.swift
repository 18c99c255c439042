import Foundation

extension Ledger {
    /// Opens an initialised database with its master key, after checking that
    /// the key belongs to the database, then applies pending migrations.
    ///
    /// `notices` receives one line for anything repaired on the way (a key
    /// rotation that a crash interrupted).
    public static func open(
        store: any Store, key source: MasterKeySource, clock: any WallClock, actor: String,
        notices: inout [String]
    ) async throws -> Ledger {
        guard let facts = try await store.read({ try DatabaseFacts(reader: $0) }) else {
            throw RotorError(.notInitialized, "the database has not been initialised; run `rotor init` first")
        }
        let key = try resolveKey(source: source, facts: facts, notices: &notices)
        let ledger = try Ledger(
            store: store, keyring: facts.keyring(with: key), clock: clock, actor: actor)
        try await store.migrate()
        return ledger
    }

    /// What `rotor init` did.
    public struct Initialization: Sendable {
        public var ledger: Ledger
        public var createdDatabase: Bool
        public var createdKeyFile: Bool
    }

    /// Creates the schema and binds the database to a master key: the
    /// source's if it has one, otherwise (a key file not yet there) a new one
    /// written with mode 0600. On a database that is already initialised it
    /// changes nothing.
    public static func initialize(store: any Store, key source: MasterKeySource, clock: any WallClock, actor: String)
        async throws -> Initialization
    {
        if try await store.read({ try DatabaseFacts(reader: $0) }) != nil {
            var notices: [String] = []
            let ledger = try await open(store: store, key: source, clock: clock, actor: actor, notices: &notices)
            return Initialization(ledger: ledger, createdDatabase: false, createdKeyFile: false)
        }
        var createdKey = false
        let key: MasterKey
        if let keyFile = source.writableFile, !Files.exists(keyFile) {
            key = MasterKey.generate()
            try KeyFile.create(key, at: keyFile)
            createdKey = true
        } else {
            key = try source.load()
        }
        try await store.migrate()
        let databaseID = UUID().uuidString.lowercased()
        let root = Keyring.newRoot()
        let keyring = Keyring(master: key, databaseID: databaseID, root: root)
        // Several instances may initialise one shared database at once (pods starting together):
        // the first to commit binds it; the others find it bound and open it as it is.
        let bound = try await store.commit { writer -> Bool in
            guard try writer.meta(.databaseID) == nil else { return false }
            try writer.setMeta(.databaseID, databaseID)
            try writer.setMeta(.keyID, key.id)
            try writer.setMeta(.keyCheck, key.checkValue(databaseID: databaseID))
            try writer.setMeta(.derivationRoot, try keyring.seal(root, for: .derivationRoot).base64EncodedString())
            try writer.setMeta(.createdAt, RFC3339.format(clock.now))
            return true
        }
        guard bound else {
            var notices: [String] = []
            let ledger = try await open(store: store, key: source, clock: clock, actor: actor, notices: &notices)
            return Initialization(ledger: ledger, createdDatabase: false, createdKeyFile: createdKey)
        }
        return Initialization(
            ledger: Ledger(store: store, keyring: keyring, clock: clock, actor: actor), createdDatabase: true,
            createdKeyFile: createdKey)
    }

    /// Loads the key that belongs to the database. A `<key-file>.old` left by
    /// an interrupted `rotor key rotate` is resolved here: if the database
    /// still uses the old key, the old key file goes back into place; if it
    /// uses the new one, the old file is removed.
    static func resolveKey(source: MasterKeySource, facts: DatabaseFacts, notices: inout [String]) throws
        -> MasterKey
    {
        let current = Result { try source.load() }
        if let keyFile = source.writableFile, case let oldFile = keyFile + ".old", Files.exists(oldFile) {
            if case .success(let key) = current, facts.accepts(key) {
                try removeKeyFile(oldFile)
                notices.append("removed \(oldFile), left over from a finished key rotation")
                return key
            }
            let old = try KeyFile.load(oldFile)
            if facts.accepts(old) {
                do {
                    try Files.replace(oldFile, with: keyFile)
                } catch {
                    throw RotorError(.io, "cannot restore the key file after an interrupted key rotation: \(error)")
                }
                notices.append(
                    "an interrupted key rotation was rolled back: \(keyFile) holds key \(old.id) again")
                return old
            }
        }
        let key = try current.get()
        guard facts.accepts(key) else {
            throw RotorError(
                .keyMismatch,
                "the master key from \(source) does not belong to this database (it is key \(key.id), the database was sealed with key \(facts.keyID)); pass the database's own key"
            )
        }
        return key
    }

    static func removeKeyFile(_ path: String) throws {
        do {
            try Files.remove(path)
        } catch {
            throw RotorError(.io, "\(error)")
        }
    }
}

/// The `meta` facts that tie a database to its master key.
struct DatabaseFacts {
    var databaseID: String
    var keyID: String
    var keyCheck: String
    var sealedRoot: Data

    /// nil when the database has not been initialised.
    init?(reader: any StoreReader) throws {
        guard let databaseID = try reader.meta(.databaseID) else { return nil }
        guard let keyID = try reader.meta(.keyID), let keyCheck = try reader.meta(.keyCheck),
            let root = try reader.meta(.derivationRoot), let sealedRoot = Data(base64Encoded: root)
        else {
            throw RotorError(.databaseInvalid, "the database's key facts are damaged; restore it from a backup")
        }
        self.databaseID = databaseID
        self.keyID = keyID
        self.keyCheck = keyCheck
        self.sealedRoot = sealedRoot
    }

    func accepts(_ key: MasterKey) -> Bool {
        key.id == keyID && key.checkValue(databaseID: databaseID) == keyCheck
    }

    func keyring(with key: MasterKey) throws -> Keyring {
        let root = try Keyring.open(sealedRoot, for: .derivationRoot, key: key, databaseID: databaseID)
        return Keyring(master: key, databaseID: databaseID, root: root)
    }
}
