import Foundation
import GRDB
import RotorCore
import RotorSQLite
import RotorTesting
import Testing

/// `rotor audit …` through the binary.
struct AuditCommandTests {
    /// Four apps added, one revealed, one removed; one failed rotation (the
    /// sandbox vendor rejects delta's pair), so there are failure outcomes
    /// too: `rotation.failed` and `app.needs_action` (changed outside Rotor).
    func populated() async throws -> CLIHarness {
        let cli = CLIHarness()
        try await cli.initialize()
        for name in ["alpha", "beta", "gamma"] { try await cli.addApp(name, secret: "s-\(name)") }
        try await withSandbox { sandbox in
            try await cli.expectSuccess(
                [
                    "app", "add", "delta", "--application-id", sandbox.application.id, "--client-id", "wrong",
                    "--client-secret-stdin", "--no-verify", "--api-url", sandbox.url,
                ],
                stdin: "s\n")
            try await cli.expectSuccess(["secret", "show", "alpha"])
            try await cli.expectSuccess(["app", "remove", "gamma"])
            #expect(try await cli.run(["rotate", "delta"]).status == 4)
        }
        return cli
    }

    func ids(_ jsonl: String) -> [Int64] {
        jsonl.split(separator: "\n").compactMap { AuditEvent(jsonLine: String($0))?.id }
    }

    @Test func everyFilter() async throws {
        let cli = try await populated()
        func query(_ arguments: [String]) async throws -> [Int64] {
            ids(try await cli.expectSuccess(["audit", "--format", "jsonl"] + arguments).stdout)
        }
        #expect(try await query([]) == [8, 7, 6, 5, 4, 3, 2, 1])
        #expect(try await query(["--app", "alpha"]) == [5, 1])
        #expect(try await query(["--action", "app.added"]) == [4, 3, 2, 1])
        #expect(try await query(["--outcome", "failure"]) == [8, 7])
        #expect(try await query(["--limit", "2"]) == [8, 7])
        #expect(try await query(["--since", "1h"]).count == 8)
        #expect(try await query(["--until", "1h"]).isEmpty)
        #expect(
            try await query(["--since", "2000-01-01T00:00:00Z", "--until", "2999-01-01T00:00:00+02:00"]).count == 8)
        #expect(try await query(["--app", "alpha", "--action", "secret.revealed", "--outcome", "success"]) == [5])
        // A removed app keeps its history; a registered app with no match is an empty answer; a typo is an error.
        #expect(try await query(["--app", "gamma", "--action", "app.added"]) == [3])
        #expect(try await query(["--app", "beta", "--action", "secret.revealed"]).isEmpty)
        let typo = try await cli.run(["audit", "--app", "alpah"])
        #expect(typo.status == 64, "\(typo)")
        #expect(typo.errorLines.count == 1 && typo.stderr.contains("no app named alpah"), "\(typo)")
        #expect(typo.stdout.isEmpty, "\(typo)")
        for bad in [
            ["--since", "yesterday"], ["--action", "app.exploded"], ["--outcome", "maybe"], ["--limit", "0"],
        ] {
            let result = try await cli.run(["audit"] + bad)
            #expect(result.status == 64, "\(bad)")
        }
    }

    @Test func everyFormat() async throws {
        let cli = try await populated()
        let table = try await cli.expectSuccess(["audit"]).stdout
        #expect(table.hasPrefix("ID"))
        #expect(table.split(separator: "\n").count == 9)
        let json = try await cli.expectSuccess(["audit", "--format", "json"]).stdout
        guard case .array(let array)? = JSONValue.parse(json) else {
            Issue.record("not a JSON array")
            return
        }
        try #require(array.count == 8)
        guard case .object(let first) = array[0] else { return }
        for field in ["id", "time", "actor", "action", "outcome", "app", "rotation_id", "detail", "hash"] {
            #expect(first[field] != nil, "missing \(field)")
        }
        #expect(try await cli.expectSuccess(["audit", "--json"]).stdout == json)
        let csv = try await cli.expectSuccess(["audit", "--format", "csv", "--app", "alpha"]).stdout
        let lines = csv.split(separator: "\n")
        try #require(lines.count == 3)
        #expect(lines[0] == "id,time,actor,action,outcome,app,rotation_id,detail,hash")
        #expect(lines[1].contains(#""{""client_id"":""client-alpha"""#))
    }

    @Test func anExportVerifiesOnItsOwnAndTamperingShows() async throws {
        let cli = try await populated()
        let export = try await cli.expectSuccess(["audit", "export"]).stdout
        #expect(ids(export) == [1, 2, 3, 4, 5, 6, 7, 8])
        try cli.directory.write("audit.jsonl", export)
        let verified = try await cli.expectSuccess(["audit", "verify", "--file", cli.directory.file("audit.jsonl")])
        #expect(verified.stdout.contains("8 events is intact"))
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
                "scripts/verify-audit-export.py")
        let python = try await runPython(script.path, cli.directory.file("audit.jsonl"))
        #expect(python == (0, "8 events verify\n"))

        var lines = export.split(separator: "\n").map(String.init)
        try #require(lines.count == 8)
        lines[2] = lines[2].replacingOccurrences(of: "\"app\":\"gamma\"", with: "\"app\":\"omega\"")
        try cli.directory.write("edited.jsonl", lines.joined(separator: "\n"))
        let edited = try await cli.run(["audit", "verify", "--file", cli.directory.file("edited.jsonl")])
        #expect(edited.status == 1)
        #expect(edited.stderr.contains("event 3"))
        #expect(try await runPython(script.path, cli.directory.file("edited.jsonl")).status != 0)
        lines = export.split(separator: "\n").map(String.init)
        lines.remove(at: 3)
        try cli.directory.write("gap.jsonl", lines.joined(separator: "\n"))
        #expect(
            try await cli.run(["audit", "verify", "--file", cli.directory.file("gap.jsonl")]).stderr.contains("missing")
        )
        // A later export from an event on verifies too.
        let partial = try await cli.expectSuccess(["audit", "export", "--since", "1h"]).stdout
        #expect(ids(partial).count == 8)
    }

    func runPython(_ script: String, _ file: String) async throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, file]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func verifyNamesTheFirstBadEventAndATruncatedTail() async throws {
        let cli = try await populated()
        #expect(try await cli.run(["audit", "verify"]).status == 0)
        do {
            let store = try SQLiteStore.open(path: cli.db)
            try store.withConnection { db in
                try db.execute(sql: "DROP TRIGGER audit_events_no_update")
                try db.execute(sql: "DELETE FROM audit_events WHERE id >= 6")
            }
        }
        let truncated = try await cli.run(["audit", "verify"])
        #expect(truncated.status == 1)
        #expect(truncated.errorLines.count == 1)
        #expect(truncated.stderr.contains("truncated"))
    }

    @Test func pruningKeepsTheChainVerifiable() async throws {
        let cli = try await populated()
        let pruned = try await cli.expectSuccess(["audit", "prune", "--before", "2999-01-01T00:00:00Z"])
        #expect(pruned.stdout.contains("removed 8 events"))
        #expect(try await cli.run(["audit", "verify"]).status == 0)
        let left = ids(try await cli.expectSuccess(["audit", "--format", "jsonl"]).stdout)
        #expect(left == [9])  // the audit.pruned event itself
        try await cli.addApp("epsilon", secret: "s")
        #expect(try await cli.run(["audit", "verify"]).status == 0)
        #expect(
            try await cli.expectSuccess(["audit", "prune", "--before", "2000-01-01T00:00:00Z"]).stdout.contains(
                "removed 0"))
    }

    @Test func concurrentWritersKeepTheChainValid() async throws {
        let cli = CLIHarness()
        try await cli.initialize()
        let writers = (0..<4).map { writer in
            Task {
                for index in 0..<8 { try await cli.addApp("w\(writer)-\(index)", secret: "s") }
            }
        }
        for writer in writers { try await writer.value }
        let verified = try await cli.expectSuccess(["audit", "verify"])
        #expect(verified.stdout.contains("32 events is intact"))
    }

    @Test func followStreamsNewEvents() async throws {
        let cli = try await populated()
        let follower = try cli.rotor.start(["audit", "--follow", "--format", "jsonl", "--limit", "2"])
        // The last two events first, then the one added while it follows.
        #expect(try await follower.waitForOutput { ids($0).count == 2 })
        try await cli.addApp("late", secret: "s")
        #expect(try await follower.waitForOutput { ids($0).count == 3 })
        follower.kill(SIGTERM)
        let output = await follower.wait().stdout
        #expect(ids(output) == [7, 8, 9], "\(output)")
    }
}
