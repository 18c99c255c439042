import ArgumentParser
import RotorCore

extension Rotor {
    struct SecretGroup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "secret",
            abstract: "Reveal a stored secret for manual recovery.",
            subcommands: [Show.self])
    }
}
