import Foundation
import RotorCore
import RotorTesting
import Testing

/// `rotor target add` (cli.md): says when the target is first written, warns
/// about a directory it cannot write, refuses a target that repeats another.
struct TargetAddTests {
    @Test func itSaysWhenTheTargetIsWrittenAndRefusesATwin() async throws {
        let cli = CLIHarness()
        try await cli.initialize()
        try await cli.addApp("billing", secret: "target-add-canary")
        let path = cli.directory.file("billing.env")
        let added = try await cli.expectSuccess(["target", "add", "billing", "--file", path])
        #expect(added.stdout.contains("rotor publish billing"), "\(added)")
        #expect(added.stderr.isEmpty, "\(added)")
        let before = cli.snapshot()
        // The same file in another format would be two writers of one file.
        let twin = try await cli.run(["target", "add", "billing", "--file", path, "--format", "json"])
        #expect(twin.status == 64, "\(twin)")
        #expect(twin.errorLines.count == 1 && twin.stderr.contains("target 1 of billing already does this"))
        try await cli.expectSuccess(["target", "add", "billing", "--exec", "true"])
        #expect(try await cli.run(["target", "add", "billing", "--exec", "true", "--timeout", "5s"]).status == 64)
        #expect(cli.snapshot() != before)  // the exec target was added
        let listed = try await cli.expectSuccess(["target", "list", "billing", "--json"]).stdout
        #expect(listed.components(separatedBy: "\"id\":").count == 3)
    }

    @Test func aMissingDirectoryIsANoteAndTheTargetIsAdded() async throws {
        let cli = CLIHarness()
        try await cli.initialize()
        try await cli.addApp("billing", secret: "target-add-canary")
        let result = try await cli.expectSuccess([
            "target", "add", "billing", "--file", cli.directory.file("not-yet/billing.env"),
        ])
        #expect(result.stderr.contains("not-yet does not exist"), "\(result)")
        #expect(result.errorLines.count == 1)
    }
}
