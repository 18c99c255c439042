import ArgumentParser
import Foundation
import RotorCore
import Yams

extension Rotor {
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export",
            abstract: "Print the configuration (apps, schedules, targets, alerts) as a YAML or JSON file.",
            discussion: """
                The file has the schema `rotor apply` reads (version 1); it never holds a secret: \
                a webhook's headers stay sealed in the database, and a template target carries its \
                stored template as template_text.
                """)

        enum Format: String, ExpressibleByArgument, CaseIterable {
            case yaml, json
        }

        @OptionGroup var global: GlobalOptions
        @Option(help: "yaml or json.") var format: Format = .yaml
        @Flag(help: "Same as --format json.") var json = false

        func run() async throws {
            let asJSON = json || format == .json
            try await reporting(json: asJSON) {
                let ledger = try await global.openLedger()
                let config = try await ledger.read { try ConfigFile.export(from: $0) }
                if asJSON {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                    Console.write(Array(try encoder.encode(config)) + [UInt8(ascii: "\n")])
                } else {
                    let encoder = YAMLEncoder()
                    encoder.options.sortKeys = false
                    Console.write(Array(("# rotor export\n" + (try encoder.encode(config))).utf8))
                }
            }
        }
    }
}
