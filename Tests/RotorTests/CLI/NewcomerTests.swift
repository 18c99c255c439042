import Foundation
import RotorCore
import RotorTesting
import Testing

/// What a new user meets first: the top-level help and an `app add` against
/// a vendor that is not where `--api-url` says.
struct NewcomerTests {
    @Test func theTopLevelHelpListsTheGlobalOptions() async throws {
        let help = try await CLIHarness().expectSuccess(["--help"]).stdout
        for option in ["--db PATH", "ROTOR_DB", "--key-file PATH", "--key-command CMD", "--json"] {
            #expect(help.contains(option), "\(option) missing from\n\(help)")
        }
    }

    @Test func anUnreachableVendorIsReportedSoonAndNamesAPIURL() async throws {
        let cli = CLIHarness()
        try await cli.initialize()
        // Port 1 on loopback: nothing listens there, the connection is refused at once.
        let start = ContinuousClock.now
        let result = try await cli.run(
            [
                "app", "add", "billing", "--application-id", "app-1", "--client-id", "client-1",
                "--client-secret-stdin", "--api-url", "http://127.0.0.1:1",
            ], stdin: "newcomer-canary-secret\n")
        let elapsed = ContinuousClock.now - start
        #expect(result.status == 1, "\(result)")
        #expect(result.errorLines.count == 1)
        #expect(result.stderr.contains("could not reach the vendor at http://127.0.0.1:1"), "\(result)")
        #expect(result.stderr.contains("Connection refused") && result.stderr.contains("--api-url"), "\(result)")
        #expect(!result.stderr.contains("newcomer-canary-secret"))
        // The retries of the interactive policy (5 attempts within 20 s), not a connection pool's
        // own retrying on top of them; a generous guard.
        #expect(elapsed < .seconds(20), "\(elapsed)")
        #expect(try await cli.run(["app", "list", "--json"]).stdout == "[]\n")
    }
}
