import ArgumentParser
import RotorCore

extension Rotor {
    struct Identity: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "identity",
            abstract: "Manage vitalera users whose tokens rotate applications.",
            discussion: """
                An identity is a user of the organization (password grant). Its password, access \
                token and refresh token are stored encrypted. An app with --identity NAME is \
                rotated with that user's token; any app may use an identity to recover from a \
                lost rotation answer.
                """,
            subcommands: [Add.self, List.self, Remove.self])
    }
}
