import ArgumentParser
import Foundation
import RotorCore

extension Rotor.Alert {
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add", abstract: "Add an alert hook.",
            discussion: """
                The hook runs with /bin/sh -c on the events given with --on: failed, lost, needs_action, \
                delivery_failed, check_failed, completed (default: all but completed). Its stdin is a JSON \
                document with event, app, rotation_id, state, error, time, host, target, message and \
                severity; never a secret.
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Option(help: ArgumentHelp("The command, run with /bin/sh -c.", valueName: "command")) var exec: String
        @Option(help: ArgumentHelp("Stop it after this long.", valueName: "duration")) var timeout =
            "30s"
        @Option(
            help: ArgumentHelp(
                "A comma list of the events that run it (default: all but completed).", valueName: "events"))
        var on: String?

        func run() async throws {
            try await reporting(json: output.isJSON) {
                guard !exec.trimmingCharacters(in: .whitespaces).isEmpty else {
                    throw RotorError(.invalidInput, "--exec needs a command")
                }
                let events = try on.map { text throws(RotorError) in try AlertEvent.parse(text) } ?? AlertEvent.defaults
                let seconds = try DurationText.parse(timeout, option: "--timeout")
                guard seconds > 0 else { throw RotorError(.invalidInput, "--timeout must be longer than 0s") }
                let alert = try await TargetRegistry(ledger: try global.openLedger()).addAlert(
                    command: exec, timeout: TimeInterval(seconds), events: events)
                try output.emit(
                    CommandReport(
                        ["alert_id": .int(alert.id), "on": .array(alert.events.sorted().map { .string($0.rawValue) })],
                        lines: ["Added alert \(alert.id), run on \(AlertEvent.text(alert.events))."]))
            }
        }
    }
}
