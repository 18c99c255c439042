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
    /// A target's settings as JSON fields (cli.md, `target list --json`); never a secret.
    static func json(_ target: TargetRecord) -> JSONValue {
        var fields: [String: JSONValue] = [
            "id": .int(target.id), "enabled": .bool(target.enabled), "target": .string(target.summary),
            "path": nil, "format": nil, "template": nil, "mode": nil, "in_place": nil, "command": nil, "timeout": nil,
            "env": nil, "check": .optional(target.check?.command),
            "check_timeout": .optional(target.check.map { Int64($0.timeout) }),
        ]
        switch target.kind {
        case .file(let file):
            fields["kind"] = "file"
            fields["path"] = .string(file.path)
            fields["format"] = .string(file.template == nil ? file.format.rawValue : "template")
            fields["template"] = .optional(file.template)
            fields["mode"] = .string(String(file.mode, radix: 8))
            fields["in_place"] = .bool(file.inPlace)
        case .exec(let exec):
            fields["kind"] = "exec"
            fields["command"] = .string(exec.command)
            fields["timeout"] = .int(Int64(exec.timeout))
            fields["env"] = .bool(exec.passEnvironment)
        case .webhook(let webhook):
            fields["kind"] = "webhook"
            // Scheme and host only: a webhook URL often carries a token.
            fields["url"] = .string(webhook.shownURL)
            fields["timeout"] = .int(Int64(webhook.timeout))
            fields["signed"] = .bool(webhook.secretFile != nil)
            fields["secret_file"] = .optional(webhook.secretFile)
            fields["headers"] = .bool(webhook.sealedHeaders != nil)
        }
        return .object(JSONObject(fields))
    }

    /// A listed target: its settings and its delivery state.
    static func json(_ item: TargetListing) -> JSONValue {
        guard case .object(var fields) = json(item.target) else { return json(item.target) }
        let latest = item.latest
        fields["state"] = .string(item.state)
        fields["delivered_version"] = .optional(item.deliveredVersion)
        fields["version"] = .optional(latest?.version)
        fields["attempts"] = .optional(latest?.attempts)
        fields["error"] = .optional(latest?.lastError)
        fields["last_error"] = .optional(latest?.lastError)
        fields["last_output"] = .optional(latest?.output)
        fields["last_attempt"] = .optional(latest?.lastAttemptAt.map(RFC3339.format))
        fields["next_attempt"] = .optional(latest?.nextAttemptAt.map(RFC3339.format))
        fields["confirmed_at"] = .optional(latest?.confirmedAt.map(RFC3339.format))
        fields["check_error"] = .optional(latest?.checkError)
        return .object(fields)
    }

    /// The last non-empty line of a hook's kept output (masked when it was
    /// kept), cut for a table cell; `rotor target list --json` has it whole.
    static func lastLine(_ output: String?) -> String {
        guard let line = output?.split(whereSeparator: \.isNewline).last(where: { !$0.allSatisfy(\.isWhitespace) })
        else { return "" }
        return line.count > 80 ? String(line.prefix(79)) + "…" : String(line)
    }
}
