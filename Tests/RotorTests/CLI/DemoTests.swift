import Foundation
import RotorTesting
import Testing

struct DemoTests {
    @Test func theDemoRunsWithoutSetUpAndShowsNoSecret() async throws {
        let directory = TemporaryDirectory()
        let rotor = RotorProcess(directory: directory.path)
        let result = try await rotor.run(["demo"], timeout: 120)
        #expect(result.status == 0, "\(result)")
        for expected in [
            "rotated billing: version 1 → 2, verified and delivered", "the vendor now rejects the old pair",
            "VITALERA_CLIENT_SECRET=<hidden: fingerprint", "rotation.completed", "hash chain of", "is intact",
        ] {
            #expect(result.stdout.contains(expected), "missing: \(expected)")
        }
        // Nothing is left behind, not in the working directory either.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }
}
