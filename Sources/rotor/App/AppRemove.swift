import ArgumentParser
import Foundation
import RotorCore

extension Rotor.App {
    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove",
            abstract: "Delete an application and its stored secrets. Its audit events stay.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The app.") var name: String

        func run() async throws {
            try await reporting(json: output.isJSON) {
                try await AppRegistry(ledger: try global.openLedger(), checker: nil).remove(name)
                try output.emit(
                    CommandReport(
                        ["app": .string(name), "removed": true],
                        lines: ["Removed \(name) and its stored secrets; its audit events stay."]))
            }
        }
    }
}
