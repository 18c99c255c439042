import ArgumentParser
import RotorCore

extension Rotor {
    struct Key: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "key",
            abstract: "Manage the master key.",
            subcommands: [Rotate.self, Generate.self])
    }
}
