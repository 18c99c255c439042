import Foundation
import RotorCore
import RotorTesting
import Testing
import VitaleraSandbox

/// `--json` on every command that reports a result (cli.md): exactly one
/// JSON document on stdout, even on failure, with the exit status the
/// command has without it.
struct JSONOutputTests {
    /// stdout as one JSON document, with `ok` and `exit` matching the process.
    @discardableResult
    func document(_ result: RotorProcess.Result, sourceLocation: SourceLocation = #_sourceLocation) throws -> JSONValue
    {
        let lines = result.stdout.split(separator: "\n")
        try #require(lines.count == 1, "not one line: \(result)", sourceLocation: sourceLocation)
        let value = try #require(JSONValue.parse(result.stdout), "not JSON: \(result)", sourceLocation: sourceLocation)
        #expect(value["exit"] == .int(Int64(result.status)), "\(result)", sourceLocation: sourceLocation)
        #expect(value["ok"] == .bool(result.status == 0), "\(result)", sourceLocation: sourceLocation)
        return value
    }

    @Test func everyChangeReportsOneDocument() async throws {
        try await withSandbox { sandbox in
            let cli = CLIHarness()
            let created = try document(try await cli.run(["init", "--json"]))
            #expect(created["created_database"] == true)
            #expect(created["created_key_file"] == .string(cli.keyFile))
            #expect(try document(try await cli.run(["init", "--json"]))["created_database"] == false)

            let added = try document(
                try await cli.run(
                    [
                        "app", "add", "billing", "--application-id", sandbox.application.id, "--client-id",
                        sandbox.application.clientID, "--client-secret-stdin", "--api-url", sandbox.url, "--json",
                    ], stdin: sandbox.application.clientSecret + "\n"))
            #expect(added["app"] == "billing" && added["verified"] == true && added["version"] == 1)
            let set = try document(try await cli.run(["app", "set", "billing", "--every", "30d", "--json"]))
            #expect(set["schedule"] == "every 30d")

            let file = try document(
                try await cli.run(["target", "add", "billing", "--file", cli.directory.file("b.env"), "--json"]))
            #expect(file["target"]?["kind"] == "file" && file["target"]?["mode"] == "600")
            let hook = try document(
                try await cli.run(["target", "add", "billing", "--exec", "echo no >&2; exit 5", "--json"]))
            #expect(hook["target"]?["command"] == "echo no >&2; exit 5" && hook["target"]?["timeout"] == 30)

            let dryRun = try document(try await cli.run(["rotate", "billing", "--dry-run", "--json"]))
            #expect(dryRun["dry_run"] == true)
            // Rotated and stored, one delivery failing: exit 3, not ok.
            let rotated = try await cli.run(["rotate", "billing", "--json"])
            #expect(rotated.status == 3, "\(rotated)")
            let outcome = try document(rotated)
            #expect(outcome["state"] == "verified" && outcome["rotation_id"] == 1)
            #expect(!rotated.stderr.isEmpty)

            let published = try await cli.run(["publish", "billing", "--json"])
            #expect(published.status == 3)
            guard case .array(let targets)? = try document(published)["targets"] else {
                Issue.record("no targets in \(published)")
                return
            }
            #expect(targets.count == 2)

            let listed = try await cli.expectSuccess(["target", "list", "billing", "--json"])
            guard case .array(let rows)? = JSONValue.parse(listed.stdout), rows.count == 2 else {
                Issue.record("not two targets: \(listed)")
                return
            }
            #expect(rows[0]["state"] == "delivered" && rows[0]["delivered_version"] == 2 && rows[0]["path"] != nil)
            #expect(
                rows[1]["state"] == "retrying" && rows[1]["kind"] == "exec" && rows[1]["delivered_version"] == .null)
            #expect(rows[1]["last_output"] == "no\n" || rows[1]["last_output"] == "no")

            let once = try document(try await cli.run(["run", "--once", "--json"]))
            #expect(once["outcomes"] != nil)
            #expect(try document(try await cli.run(["audit", "verify", "--json"]))["intact"] == true)
            let backup = try document(try await cli.run(["backup", cli.directory.file("copy.db"), "--json"]))
            #expect(backup["backup"] == .string(cli.directory.file("copy.db")))
            let rekeyed = try document(try await cli.run(["key", "rotate", "--json"]))
            #expect(rekeyed["resealed"] != nil && rekeyed["old_key_id"] != rekeyed["new_key_id"])
            #expect(try document(try await cli.run(["target", "remove", "billing", "2", "--json"]))["removed"] == true)
            // With the failing target gone, the next pass completes the rotation, and the app may go.
            #expect(try document(try await cli.run(["run", "--once", "--json"]))["ok"] == true)
            #expect(try document(try await cli.run(["app", "remove", "billing", "--json"]))["removed"] == true)

            // No secret in any of it.
            let pair = await sandbox.currentPair()
            for text in [added, rotated.stdout, published.stdout, listed.stdout].map({ "\($0)" }) {
                #expect(!text.contains(pair.clientSecret) && !text.contains(sandbox.application.clientSecret))
            }
        }
    }

    @Test(arguments: [
        ["app", "show", "nope", "--json"], ["rotate", "nope", "--json"], ["publish", "nope", "--format", "json"],
        ["history", "nope", "--json"], ["target", "list", "nope", "--json"], ["app", "remove", "nope", "--json"],
        ["audit", "--app", "nope", "--format", "jsonl"],
    ])
    func anUnknownAppIsOneFailureDocumentAndExit64(_ arguments: [String]) async throws {
        let cli = CLIHarness()
        try await cli.initialize()
        let result = try await cli.run(arguments)
        #expect(result.status == 64, "\(result)")
        let failure = try document(result)
        #expect(failure["code"] == "not_found", "\(result)")
        guard case .string(let message)? = failure["error"] else {
            Issue.record("no error in \(result)")
            return
        }
        #expect(message.contains("nope"))
        #expect(result.errorLines.count == 1)
    }

    @Test func aUsageErrorIsOneDocumentTooWhenJSONIsAsked() async throws {
        let cli = CLIHarness()
        try await cli.initialize()
        let result = try await cli.run(["app", "add", "billing", "--json"])
        #expect(result.status == 64, "\(result)")
        #expect(try document(result)["code"] == "usage")
        let plain = try await cli.run(["app", "add", "billing"])
        #expect(plain.status == 64 && plain.stdout.isEmpty)
    }

    @Test func secretShowFieldPrintsTheValueAlone() async throws {
        let cli = CLIHarness()
        try await cli.initialize()
        let secret = "field-canary-\(UUID().uuidString)"
        try await cli.addApp("billing", secret: secret)
        #expect(
            try await cli.expectSuccess(["secret", "show", "billing", "--field", "client_secret"]).stdout == secret
                + "\n")
        #expect(
            try await cli.expectSuccess(["secret", "show", "billing", "--field", "client_id"]).stdout
                == "client-billing\n")
        #expect(
            try await cli.expectSuccess(["secret", "show", "billing", "--field", "application_id"]).stdout
                == "app-billing\n")
        let refused = try await cli.run(["secret", "show", "billing", "--field", "client_secret", "--json"])
        #expect(refused.status == 64 && !refused.stdout.contains(secret) && !refused.stderr.contains(secret))
        let unknown = try await cli.run(["secret", "show", "billing", "--field", "password"])
        #expect(unknown.status == 64 && unknown.stdout.isEmpty)
        let audit = try await cli.expectSuccess(["audit", "--action", "secret.revealed", "--format", "jsonl"])
        #expect(audit.stdout.split(separator: "\n").count == 3)
        #expect(!audit.stdout.contains(secret))
    }
}
