import ArgumentParser
import RotorCore

extension Rotor {
    struct Key: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Manage the master key.",
            subcommands: [Rotate.self])

        struct Rotate: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Make a new master key and re-encrypt every secret with it in one transaction.",
                discussion: """
                    The old key file is kept as <key-file>.old until the re-encryption is \
                    committed, then removed. Back up the new key file afterwards.
                    """)

            @OptionGroup var global: GlobalOptions

            func run() async throws {
                try await reporting {
                    let ledger = try global.openLedger()
                    // A spill file is sealed with the current key; import it before the key changes.
                    if let spill = SpillFile.paths(database: global.databasePath).first {
                        throw RotorError(
                            .invalidInput,
                            "\(spill) holds a new pair sealed with the current key; run `rotor run --once` to import it before rotating the key"
                        )
                    }
                    let result = try KeyRotation.rotate(ledger: ledger, keyFile: global.keyFilePath)
                    Console.out(
                        "Rotated the master key \(result.oldKeyID) → \(result.newKeyID); re-sealed \(result.resealed) secrets."
                    )
                    Console.out(
                        "Back up \(global.keyFilePath) now: backups of the old key no longer open this database.")
                }
            }
        }
    }
}
