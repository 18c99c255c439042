import ArgumentParser
import Foundation
import RotorCore

extension Rotor.Alert {
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add an alert hook.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Option(help: ArgumentHelp("The command, run with /bin/sh -c.", valueName: "command")) var exec: String
        @Option(help: ArgumentHelp("Stop it after this long.", valueName: "duration")) var timeout =
            "30s"

        func run() async throws {
            try await reporting(json: output.isJSON) {
                guard !exec.trimmingCharacters(in: .whitespaces).isEmpty else {
                    throw RotorError(.invalidInput, "--exec needs a command")
                }
                let seconds = try DurationText.parse(timeout, option: "--timeout")
                guard seconds > 0 else { throw RotorError(.invalidInput, "--timeout must be longer than 0s") }
                let alert = try await TargetRegistry(ledger: try global.openLedger()).addAlert(
                    command: exec, timeout: TimeInterval(seconds))
                try output.emit(CommandReport(["alert_id": .int(alert.id)], lines: ["Added alert \(alert.id)."]))
            }
        }
    }
}
