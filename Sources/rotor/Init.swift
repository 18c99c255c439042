import ArgumentParser
import RotorCore

extension Rotor {
    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init",
            abstract: "Create the database and, if absent, a new master key file (both mode 0600).",
            discussion: "Running it again changes nothing and says so. It never overwrites a key file.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await reporting(json: output.isJSON) {
                let source = try global.keySource
                let store = try await global.openStore(create: true)
                let database = try global.databaseName
                let result = try await Ledger.initialize(
                    store: store, key: source, clock: SystemClock(), actor: ProcessHardening.actor())
                let keyID = result.ledger.keyring.master.id
                let createdKeyFile = result.createdKeyFile ? source.writableFile : nil
                var report = CommandReport([
                    "database": .string(database), "created_database": .bool(result.createdDatabase),
                    "key_id": .string(keyID), "created_key_file": .optional(createdKeyFile),
                ])
                if !result.createdDatabase {
                    report.lines = ["\(database) is already initialised (key \(keyID)); nothing changed."]
                } else if let keyFile = createdKeyFile {
                    report.lines = [
                        "Initialised \(database).",
                        "Created master key file \(keyFile) (key \(keyID), mode 0600).",
                        "Back it up apart from the database: without it no stored secret can be read.",
                    ]
                } else {
                    report.lines = [
                        "Initialised \(database).",
                        "Sealed with the existing master key from \(source) (key \(keyID)).",
                    ]
                }
                try output.emit(report)
            }
        }
    }
}
