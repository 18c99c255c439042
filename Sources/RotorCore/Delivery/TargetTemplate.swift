import Foundation
import Mustache

/// The content of a file target written from a Mustache template
/// (`rotor target add NAME --file PATH --template TEMPLATE`), for formats the
/// built-in ones don't cover: a `.properties` file, YAML, a connection string.
///
/// Values are inserted as they are (no HTML escaping). A template is checked
/// when it is added: it must parse and name only the variables below, so a
/// typo is an error at `target add`, not an empty value in a consumer's file.
public enum TargetTemplate {
    /// The variables a template may use.
    public static let variables = [
        "app", "application_id", "client_id", "client_secret", "version", "rotated_at", "fingerprint",
    ]

    /// The largest template accepted.
    public static let maximumSize = 64 * 1024

    /// Reads a template file (UTF-8 text, at most ``maximumSize`` bytes) and checks it.
    public static func read(_ path: String, option: String = "template", variables: [String] = variables)
        throws(RotorError) -> String
    {
        let bytes: [UInt8]
        do {
            bytes = try Files.read(path, limit: maximumSize + 1)
        } catch {
            throw RotorError(.invalidInput, "\(option): \(error)")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw RotorError(.invalidInput, "\(option) \(UserText.shown(path)) is not UTF-8 text")
        }
        try check(text, variables: variables)
        return text
    }

    /// Checks `text` as `target add` does; the message names the problem.
    public static func check(_ text: String, variables: [String] = variables) throws(RotorError) {
        guard text.utf8.count <= maximumSize else {
            throw RotorError(.invalidInput, "the template is larger than 64 KiB")
        }
        do {
            _ = try MustacheTemplate(string: text)
        } catch {
            throw RotorError(
                .invalidInput, "the template does not parse as Mustache (\(error)); fix it and add the target again")
        }
        if let partial = tags(in: text).first(where: { $0.sigil == ">" }) {
            throw RotorError(
                .invalidInput,
                "the template includes the partial \(UserText.quoted(partial.name)), which Rotor cannot load; write the whole content in one template"
            )
        }
        for name in names(in: text) where !variables.contains(name) {
            throw RotorError(
                .invalidInput,
                "the template uses \(UserText.quoted(name)), which Rotor does not fill; the variables are \(variables.joined(separator: ", "))"
            )
        }
    }

    /// The variables of a group's template: `group`, and each pair's under `current.` and `standby.`.
    public static let groupVariables =
        ["group"] + ["current", "standby"].flatMap { side in variables.map { "\(side).\($0)" } }

    /// The rendered content of a template with `values` (strings, or dictionaries of strings).
    static func render(_ text: String, values: [String: Any]) -> [UInt8] {
        guard let template = try? MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + text) else { return [] }
        return Array(template.render(values).utf8)
    }

    /// The rendered content for `document`.
    public static func render(_ text: String, _ document: DeliveryDocument) -> [UInt8] {
        // Text, not HTML: a secret is written exactly as it is.
        render(text, values: document.templateValues)
    }

    /// The names of the tags in `text`: `{{name}}`, `{{{name}}}`, `{{& name}}`,
    /// and sections `{{#name}}`, `{{^name}}`; comments, partials, closing tags
    /// and set-delimiter or pragma tags aside.
    public static func names(in text: String) -> [String] {
        tags(in: text).filter { $0.sigil.map { "#^&".contains($0) } ?? true }.map(\.name).filter { $0 != "." }
    }

    /// Every `{{…}}` tag: its sigil (`#`, `^`, `/`, `&`, `!`, `>`, `=`, `%`; nil for a plain
    /// variable, `{{{name}}}` too) and the name after it.
    static func tags(in text: String) -> [(sigil: Character?, name: String)] {
        var tags: [(sigil: Character?, name: String)] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            rest = rest[open.upperBound...]
            guard let close = rest.range(of: "}}") else { break }
            var tag = rest[..<close.lowerBound]
            rest = rest[close.upperBound...]
            if tag.hasPrefix("{") {
                tag = tag.dropFirst()
                if rest.hasPrefix("}") { rest = rest.dropFirst() }
            }
            let trimmed = tag.trimmingCharacters(in: .whitespaces)
            guard let first = trimmed.first else { continue }
            let sigil: Character? = "#^/&!>=%".contains(first) ? first : nil
            let name = (sigil == nil ? trimmed : String(trimmed.dropFirst())).trimmingCharacters(in: .whitespaces)
            tags.append((sigil, name))
        }
        return tags
    }
}
