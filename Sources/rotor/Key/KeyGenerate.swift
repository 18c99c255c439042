import ArgumentParser
import RotorCore

extension Rotor.Key {
    struct Generate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "generate",
            abstract:
                "Write a new master key to a new file (mode 0600), for a secret store or a systemd credential.",
            discussion: """
                Touches no database. Load the file into its store (for example \
                `systemd-creds encrypt`, `kubectl create secret generic`), then `rotor init` \
                binds a new database to it. It never overwrites a file.
                """)

        @Argument(help: ArgumentHelp("Where to write the key.", valueName: "path")) var path: String

        func run() async throws {
            try await reporting {
                let key = MasterKey.generate()
                try KeyFile.create(key, at: path)
                Console.out("Wrote master key \(key.id) to \(path) (mode 0600).")
            }
        }
    }
}
