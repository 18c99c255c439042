import ArgumentParser
import RotorCore

extension Rotor.Key {
    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate",
            abstract: "Make a new master key and re-encrypt every secret with it in one transaction.",
            discussion: """
                With a key file, the old key is kept as <key-file>.old until the re-encryption is \
                committed, then removed. Back up the new key file afterwards. \
                With a key Rotor only reads (--key-command or a systemd credential), pass \
                --new-key-file: the new key is written there, and you move it into your secret store.
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions

        @Option(
            name: .customLong("new-key-file"),
            help: ArgumentHelp(
                "Write the new key to this new file (mode 0600) instead of replacing the key file; required when the key comes from --key-command or a systemd credential.",
                valueName: "path"))
        var newKeyFile: String?

        func run() async throws {
            try await reporting(json: output.isJSON) {
                let ledger = try await global.openLedger()
                // A spill file is sealed with the current key; import it before the key changes.
                if let spill = SpillFile.paths(database: try global.spillBase).first {
                    throw RotorError(
                        .invalidInput,
                        "\(spill) holds a new pair sealed with the current key; run `rotor run --once` to import it before rotating the key"
                    )
                }
                let source = try global.keySource
                let result: KeyRotation.Result
                let written: String
                let progress = Progress("re-sealing secrets")
                defer { progress.finish() }
                if let newKeyFile {
                    result = try await KeyRotation.rotate(
                        ledger: ledger, newKeyFile: newKeyFile, progress: progress.report)
                    written = newKeyFile
                } else if let keyFile = source.writableFile {
                    result = try await KeyRotation.rotate(ledger: ledger, keyFile: keyFile, progress: progress.report)
                    written = keyFile
                } else {
                    throw RotorError(
                        .invalidInput,
                        "the master key comes from \(source), which Rotor cannot replace; pass --new-key-file PATH and move the new key into your secret store afterwards"
                    )
                }
                progress.finish()
                var report = CommandReport(
                    [
                        "old_key_id": .string(result.oldKeyID), "new_key_id": .string(result.newKeyID),
                        "resealed": .int(Int64(result.resealed)), "key_file": .string(written),
                    ],
                    lines: [
                        "Rotated the master key \(result.oldKeyID) → \(result.newKeyID); re-sealed \(result.resealed) secrets."
                    ])
                if written == source.writableFile {
                    report.lines.append("Back up \(written) now: backups of the old key no longer open this database.")
                } else {
                    report.lines.append(
                        "The new key is in \(written). Put it where \(source) reads from, back it up, then remove \(written); until then pass --key-file \(written)."
                    )
                }
                try output.emit(report)
            }
        }
    }
}
