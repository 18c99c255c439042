import ArgumentParser
import Foundation
import RotorCore

/// Every command names itself (`commandName:`): a name derived from the
/// type costs a scan of the runtime's conformance records per command, at
/// every start.
@main
struct Rotor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotor",
        abstract: "Rotates vitalera API credentials on a schedule, safely.",
        discussion: """
            Rotor keeps applications, encrypted secrets and an audit log in one SQLite \
            database, rotates each app's client ID and secret when due, verifies the new \
            pair and delivers it. Exit status: 0 done, 1 failed with the vendor unchanged, \
            3 rotated but verification or delivery pending, 4 operator action needed, \
            64 bad usage or input.

            Global options, on every command: --db PATH (env ROTOR_DB; default rotor.db), \
            --key-file PATH (env ROTOR_KEY_FILE; default the database path + .key), \
            --key-command CMD (env ROTOR_KEY_COMMAND); --json on every command that reports \
            a result. `rotor COMMAND --help` gives each command's own options; `man rotor` all of them.
            """,
        version: RotorVersion.string,
        subcommands: [
            Init.self, App.self, Identity.self, Rotate.self, Run.self, Status.self, History.self, SecretGroup.self,
            Key.self,
            Target.self, Group.self, Publish.self, Alert.self, Audit.self, Backup.self, StoreGroup.self, Apply.self,
            Export.self,
            Sandbox.self,
            Demo.self,
        ]
    )

    static func main() async {
        ProcessHardening.apply()
        ProcessHardening.hidePasswordsInArguments()
        do {
            var command = try parseAsRoot()
            do {
                if var asyncCommand = command as? any AsyncParsableCommand {
                    try await asyncCommand.run()
                } else {
                    try command.run()
                }
            } catch {
                await OpenStores.closeAll()
                throw error
            }
            await OpenStores.closeAll()
        } catch {
            let code = exitCode(for: error)
            // Help and --version go to stdout as the parser writes them.
            if code == .success { exit(withError: error) }
            let message = fullMessage(for: error)
            if !message.isEmpty {
                let arguments = Array(CommandLine.arguments.dropFirst())
                let safe = UserText.parserMessage(message, arguments: arguments)
                // A usage error is one JSON document too when the command line asks for JSON.
                if OutputOptions.requested(in: arguments) {
                    let exit = ExitStatus(rawValue: code.rawValue) ?? .usage
                    let line = safe.split(separator: "\n").first.map(String.init) ?? safe
                    Console.json(CommandReport.failure(code: "usage", message: line, exit: exit))
                }
                Console.writeError(safe + "\n")
            }
            Foundation.exit(code.rawValue)
        }
    }
}
