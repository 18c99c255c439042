import ArgumentParser
import Foundation
import RotorCore
import VitaleraClient

extension Rotor.Alert {
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add", abstract: "Add an alert hook (--exec) or a webhook alert (--webhook).",
            discussion: """
                It runs on the events given with --on: failed, lost, needs_action, delivery_failed, \
                check_failed, completed (default: all but completed). A hook runs with /bin/sh -c with a \
                JSON document on stdin (event, app, rotation_id, state, error, time, host, target, message, \
                severity; never a secret); a webhook gets the same document as a POST (https, or http to \
                a loopback host; with --secret-file signed like webhook targets), tried three times. One that \
                still fails is queued and tried again by `rotor run` with the delivery backoff, for a day.
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Option(help: ArgumentHelp("The command, run with /bin/sh -c.", valueName: "command")) var exec: String?
        @Option(help: ArgumentHelp("POST the document to this URL.", valueName: "url")) var webhook: String?
        @Option(
            name: .customLong("secret-file"),
            help: ArgumentHelp("Sign the webhook's body with the key in this file.", valueName: "path"))
        var secretFile: String?
        @Option(help: ArgumentHelp("Stop it after this long.", valueName: "duration")) var timeout =
            "30s"
        @Option(
            help: ArgumentHelp(
                "A comma list of the events that run it (default: all but completed).", valueName: "events"))
        var on: String?

        func validate() throws {
            guard (exec != nil) != (webhook != nil) else {
                throw ValidationError("give exactly one of --exec and --webhook")
            }
            if secretFile != nil, webhook == nil { throw ValidationError("--secret-file goes with --webhook") }
        }

        func run() async throws {
            try await reporting(json: output.isJSON) {
                if let exec, exec.trimmingCharacters(in: .whitespaces).isEmpty {
                    throw RotorError(.invalidInput, "--exec needs a command")
                }
                if let webhook, let reason = HTTPWebhookPoster.refusal(of: webhook) {
                    throw RotorError(
                        .invalidInput, "refusing --webhook \(WebhookTarget(url: webhook).shownURL): \(reason)")
                }
                if let secretFile { _ = try WebhookRequest.signingKey(secretFile) }
                let events = try on.map { text throws(RotorError) in try AlertEvent.parse(text) } ?? AlertEvent.defaults
                let seconds = try DurationText.timeout(timeout, option: "--timeout")
                let alert = try await TargetRegistry(ledger: try global.openLedger()).addAlert(
                    command: exec ?? "", timeout: seconds, events: events,
                    webhook: webhook.map {
                        WebhookTarget(
                            url: $0, secretFile: secretFile.map { URL(fileURLWithPath: $0).standardizedFileURL.path },
                            timeout: seconds)
                    })
                try output.emit(
                    CommandReport(
                        ["alert_id": .int(alert.id), "on": .array(alert.events.sorted().map { .string($0.rawValue) })],
                        lines: ["Added alert \(alert.id), run on \(AlertEvent.text(alert.events))."]))
            }
        }
    }
}
