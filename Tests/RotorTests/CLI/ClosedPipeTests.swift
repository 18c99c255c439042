import Foundation
import RotorCore
import RotorTesting
import Testing

/// A reader that stops early (`rotor app list | head`) ends Rotor the way it
/// ends any Unix tool: by SIGPIPE, with nothing on stderr, not a crash report.
@Suite(.serialized)
struct ClosedPipeTests {
    @Test(arguments: [
        ["app", "list", "--json"], ["app", "list"], ["audit", "--format", "jsonl", "--limit", "5000"], ["status"],
    ])
    func aReaderThatStopsEarlyEndsRotorQuietly(_ arguments: [String]) async throws {
        let db = try await TestDatabase()
        // Far more output than a pipe holds (64 KiB), so that Rotor still writes after `head` has gone
        // (the audit listing too: its default of 100 events would fit, and its end would race `head`).
        try await Seeder.addApps(3000, to: db.ledger)
        var rotor = RotorProcess(directory: db.directory.path)
        rotor.prefix = ["/bin/bash", "-c", #""$0" "$@" | head -c 100 >/dev/null; exit "${PIPESTATUS[0]}""#]
        let result = try await rotor.run(arguments)
        #expect(result.status == 128 + SIGPIPE, "\(result)")
        #expect(result.stderr.isEmpty, "\(result)")
    }

    @Test func everyLineIsWrittenWhenTheReaderStays() async throws {
        let db = try await TestDatabase()
        try await Seeder.addApps(600, to: db.ledger)
        let result = try await RotorProcess(directory: db.directory.path).run(["app", "list", "--json"])
        #expect(result.status == 0, "\(result)")
        let apps = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        #expect(apps.count == 600)
        #expect(apps.last?["name"] as? String == "app-00600")
    }
}
