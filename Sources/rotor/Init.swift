import ArgumentParser
import RotorCore
import RotorSQLite

extension Rotor {
    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init",
            abstract: "Create the database and, if absent, a new master key file (both mode 0600).",
            discussion: "Running it again changes nothing and says so. It never overwrites a key file.")

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await reporting {
                let source = try global.keySource
                let store = try OpenStores.register(
                    SQLiteStore.open(path: global.databasePath, create: true, busyTimeout: try global.busyTimeout))
                let result = try await Ledger.initialize(
                    store: store, key: source, clock: SystemClock(), actor: ProcessHardening.actor())
                let keyID = result.ledger.keyring.master.id
                guard result.createdDatabase else {
                    Console.out("\(global.databasePath) is already initialised (key \(keyID)); nothing changed.")
                    return
                }
                Console.out("Initialised \(global.databasePath).")
                if result.createdKeyFile, let keyFile = source.writableFile {
                    Console.out("Created master key file \(keyFile) (key \(keyID), mode 0600).")
                    Console.out("Back it up apart from the database: without it no stored secret can be read.")
                } else {
                    Console.out("Sealed with the existing master key from \(source) (key \(keyID)).")
                }
            }
        }
    }
}
