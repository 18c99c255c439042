import ArgumentParser
import RotorCore

extension Rotor {
    struct Backup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "backup",
            abstract: "Write an online, consistent copy of the database (mode 0600); from PostgreSQL, a SQLite file.",
            discussion: """
                Safe while `rotor run` is working. The copy is sealed with the same master key: \
                keep the key file's backup apart from it. To restore, stop Rotor, put the copy in \
                place of the database (and its key file beside it), and start Rotor again.
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "Where to write the copy; it must not exist.") var path: String

        func run() async throws {
            try await reporting(json: output.isJSON) {
                let ledger = try await global.openLedger()
                let database = try global.databaseName
                if case .postgres = try global.location {
                    // From PostgreSQL, the backup is a SQLite file: the same database, checked.
                    guard !Files.exists(path) else {
                        throw RotorError(.alreadyExists, "\(path) exists; a backup is written only to a new file")
                    }
                    var report = try await StoreCopyRun.copy(
                        ledger, into: try await global.open(.sqlite(path), create: true), key: try global.keySource,
                        source: database, destination: path)
                    report.fields["database"] = .string(database)
                    report.fields["backup"] = .string(path)
                    try output.emit(report)
                    return
                }
                // SQLite writes the copy as it goes: its size against the database's is the progress.
                let progress = Progress("backing up", bytes: true)
                let total = [global.databasePath, global.databasePath + "-wal"].compactMap(Files.size).reduce(0, +)
                let watcher = Task {
                    while !Task.isCancelled, progress.enabled {
                        progress.update(Files.size(path) ?? 0, of: total)
                        try await Task.sleep(for: .milliseconds(100))
                    }
                }
                defer { watcher.cancel() }
                try await ledger.store.backup(to: path)
                watcher.cancel()
                _ = await watcher.result
                progress.finish()
                try output.emit(
                    CommandReport(
                        [
                            "database": .string(database), "backup": .string(path),
                            "key_id": .string(ledger.keyring.master.id),
                        ],
                        lines: [
                            "Wrote a consistent copy of \(database) to \(path) (key \(ledger.keyring.master.id))."
                        ]))
            }
        }
    }
}
