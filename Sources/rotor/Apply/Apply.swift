import ArgumentParser
import Foundation
import RotorCore
import VitaleraClient

extension Rotor {
    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "apply",
            abstract: "Make the database match a config file (YAML or JSON): print the plan, then apply it.",
            discussion: """
                The file has the schema `rotor export` writes (version 1): apps with their schedules \
                and targets, and alerts. The plan comes first (+ to add, ~ to change in place, - to \
                remove), then every change is made in one transaction, audited as app.*, target.* and \
                alert.* events. Apps, targets and alerts the file does not name are left alone unless \
                --prune. Targets and alerts are matched by their path, command or URL; a changed field \
                is changed in place (delivery state is kept and the current pair is delivered again). \
                A new app's first pair comes from the file its initial_credentials names (env or json \
                target format, not readable by every user), checked with the vendor unless verify: \
                false. Relative paths are taken from the config file's directory. Applying never \
                rotates, and applying the same file twice changes nothing the second time.
                """)

        @OptionGroup var global: GlobalOptions
        @Option(name: [.short, .customLong("file")], help: ArgumentHelp("The config file.", valueName: "path"))
        var file: String
        @Flag(name: .customLong("dry-run"), help: "Print the plan and change nothing.") var dryRun = false
        @Flag(help: "Also remove the apps, targets and alerts the file does not name.") var prune = false
        @Flag(help: "Machine-readable JSON on stdout: one document, even on failure.") var json = false

        func run() async throws {
            try await reporting(json: json) {
                let (config, reader) = try ConfigReader.read(file)
                let directory = URL(fileURLWithPath: file).standardizedFileURL.deletingLastPathComponent().path
                let desired = try await reader.located {
                    try config.desired(relativeTo: directory, webhookRefusal: HTTPWebhookPoster.refusal(of:))
                }
                let ledger = try await global.openLedger()
                try await withVendor { api in
                    let applier = ConfigApplier(ledger: ledger, checker: VendorPairChecker(api: api))
                    let plan = try await reader.located { try await applier.plan(desired, prune: prune) }
                    let pairs = try await reader.located { try applier.firstPairs(of: plan) }
                    if !json {
                        for change in plan.changes { Console.out(change.text) }
                    }
                    var applied = false
                    if !plan.isEmpty, !dryRun {
                        try await applier.verify(pairs, of: plan)
                        try await applier.apply(desired, prune: prune, plan: plan, pairs: pairs)
                        applied = true
                    }
                    let count = plan.changes.count
                    let summary =
                        plan.isEmpty
                        ? "No changes: the database matches \(file)."
                        : dryRun
                            ? "Dry run: \(count) change\(count == 1 ? "" : "s") planned, nothing changed."
                            : "Applied \(count) change\(count == 1 ? "" : "s") in one transaction."
                    try CommandReport(
                        [
                            "file": .string(file), "dry_run": .bool(dryRun), "prune": .bool(prune),
                            "applied": .bool(applied),
                            "changes": .array(
                                plan.changes.map { change in
                                    [
                                        "op": .string(change.symbol.rawValue), "kind": .string(change.kind),
                                        "subject": .string(change.subject),
                                        "details": .array(change.details.map(JSONValue.string)),
                                        "text": .string(change.text),
                                    ]
                                }),
                        ], lines: [summary]
                    )
                    .emit(json: json)
                }
            }
        }
    }
}
