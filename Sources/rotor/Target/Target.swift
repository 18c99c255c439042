import ArgumentParser
import Foundation
import RotorCore

extension Rotor {
    struct Target: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "target",
            abstract: "Manage where an app's new pair is delivered: files and exec hooks.",
            subcommands: [Add.self, List.self, Remove.self])
    }
}

enum TargetText {
    /// The last non-empty line of a hook's kept output (masked when it was
    /// kept), cut for a table cell; `rotor target list --json` has it whole.
    static func lastLine(_ output: String?) -> String {
        guard let line = output?.split(whereSeparator: \.isNewline).last(where: { !$0.allSatisfy(\.isWhitespace) })
        else { return "" }
        return line.count > 80 ? String(line.prefix(79)) + "…" : String(line)
    }
}
