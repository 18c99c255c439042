import Foundation
import RotorCore
import RotorTesting
import Testing

/// File targets written from a Mustache template (`target add --template`).
struct TemplateTargetTests {
    /// A secret with every character HTML would escape: a template writes it as it is.
    let secret = #"s3&cr<e>t"'x"#

    func harness() async throws -> CLIHarness {
        let cli = CLIHarness()
        try await cli.initialize()
        try await cli.addApp("billing", secret: secret)
        return cli
    }

    @Test func aPropertiesAndAYAMLFileAreWrittenFromTheirTemplates() async throws {
        let cli = try await harness()
        let dir = cli.directory
        try dir.write(
            "app.properties.mustache",
            """
            # {{app}} version {{version}}, rotated {{rotated_at}}
            vitalera.application-id={{application_id}}
            vitalera.client-id={{client_id}}
            vitalera.client-secret={{client_secret}}

            """)
        try dir.write(
            "app.yaml.mustache",
            """
            vitalera:
              clientId: "{{{client_id}}}"
              clientSecret: '{{& client_secret}}'
              fingerprint: {{fingerprint}}
            {{! a comment is not a variable }}

            """)
        for (template, output) in [("app.properties.mustache", "app.properties"), ("app.yaml.mustache", "app.yaml")] {
            let added = try await cli.expectSuccess([
                "target", "add", "billing", "--file", dir.file(output), "--template", dir.file(template),
            ])
            #expect(added.stdout.contains("(template, mode 600)"), "\(added)")
        }
        try await cli.expectSuccess(["publish", "billing"])
        let properties = String(decoding: try dir.read("app.properties"), as: UTF8.self)
        #expect(properties.hasPrefix("# billing version 1, rotated 20"), "\(properties)")
        #expect(properties.contains("vitalera.application-id=app-billing\nvitalera.client-id=client-billing\n"))
        #expect(properties.contains("vitalera.client-secret=\(secret)\n"), "\(properties)")
        let yaml = String(decoding: try dir.read("app.yaml"), as: UTF8.self)
        #expect(yaml.contains("clientSecret: '\(secret)'"), "\(yaml)")
        let shown = try await cli.expectSuccess(["secret", "show", "billing", "--json"]).stdout
        let fingerprint = try #require(JSONValue.parse(shown)?["fingerprint"])
        #expect(yaml.contains("fingerprint: \(fingerprint.canonical.trimmingCharacters(in: ["\""]))"), "\(yaml)")
        #expect(Files.mode(dir.file("app.yaml")) == 0o600)
        let listed = try await cli.expectSuccess(["target", "list", "billing", "--json"]).stdout
        guard case .array(let targets)? = JSONValue.parse(listed), targets.count == 2 else {
            Issue.record("not two targets: \(listed)")
            return
        }
        #expect(targets[0]["format"] == "template" && targets[0]["state"] == "delivered")
        #expect(targets[0]["template"].map { "\($0)".contains("vitalera.client-secret") } == true)
        // The template is stored: changing the file later changes nothing.
        try dir.write("app.properties.mustache", "changed {{client_id}}\n")
        try await cli.expectSuccess(["publish", "billing"])
        #expect(String(decoding: try dir.read("app.properties"), as: UTF8.self) == properties)
    }

    @Test(arguments: [
        ("{{client_secert}}", "client_secert"), ("{{#app}}open", "does not parse"), ("{{> partial}}", "partial"),
        ("x {{password}} y", "password"),
    ])
    func aTemplateRotorCannotFillIsRefusedAndNothingChanges(text: String, message: String) async throws {
        let cli = try await harness()
        try cli.directory.write("bad.mustache", text)
        let before = cli.snapshot()
        let result = try await cli.run([
            "target", "add", "billing", "--file", cli.directory.file("out"), "--template",
            cli.directory.file("bad.mustache"),
        ])
        #expect(result.status == 64, "\(result)")
        #expect(result.errorLines.count == 1 && result.stderr.contains(message), "\(result)")
        #expect(cli.snapshot() == before)
    }

    @Test func formatAndTemplateTogetherAndAMissingTemplateAreUsageErrors() async throws {
        let cli = try await harness()
        try cli.directory.write("t.mustache", "{{client_id}}")
        let both = try await cli.run([
            "target", "add", "billing", "--file", cli.directory.file("out"), "--format", "env", "--template",
            cli.directory.file("t.mustache"),
        ])
        #expect(both.status == 64 && both.stderr.contains("--format or --template"), "\(both)")
        let missing = try await cli.run([
            "target", "add", "billing", "--file", cli.directory.file("out"), "--template", cli.directory.file("nope"),
        ])
        #expect(missing.status == 64 && missing.errorLines.count == 1, "\(missing)")
    }

    @Test func tagNamesAreFound() {
        let names = TargetTemplate.names(
            in: "{{a}} {{{b}}} {{& c}} {{#d}}{{/d}} {{^e}}{{/e}} {{! no}} {{> p}} {{=<% %>=}} {{ f }}")
        #expect(names == ["a", "b", "c", "d", "e", "f"])
    }
}
