import ArgumentParser
import Foundation
import RotorCore

extension Rotor {
    struct Alert: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "alert",
            abstract: "Commands run when a rotation ends failed or lost, or a delivery fails past its retry budget.",
            discussion: """
                Stdin: a JSON document with event, app, rotation_id, state, error, time (never a \
                secret). Same process rules as exec targets.
                """,
            subcommands: [Add.self, List.self, Remove.self])
    }
}
