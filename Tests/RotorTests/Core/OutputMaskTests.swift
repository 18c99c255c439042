import Foundation
import RotorCore
import RotorSQLite
import Testing

struct OutputMaskTests {
    let secret = "CANARYSECRET"

    @Test func aSecretInsideTheKeptPartIsReplaced() {
        let bytes = Array("before \(secret) after".utf8)
        #expect(
            OutputMask.kept(bytes, total: bytes.count, limit: 64, secrets: [secret]) == "before <redacted> after")
    }

    @Test func aSecretAcrossTheCutIsDroppedWhole() {
        // The secret starts 4 bytes before the cut: no part of it may stay.
        let bytes = Array((String(repeating: "x", count: 60) + secret + "tail").utf8)
        let captured = Array(bytes.prefix(OutputMask.captureLimit(64, secrets: [secret])))
        let kept = OutputMask.kept(captured, total: bytes.count, limit: 64, secrets: [secret])
        #expect(kept == String(repeating: "x", count: 60) + "\n[… \(bytes.count - 60) more bytes not kept]")
        #expect(!kept.contains("CANA"))
    }

    @Test func theCaptureCoversTheLongestSecret() {
        #expect(OutputMask.captureLimit(100, secrets: ["abcd", secret]) == 100 + secret.utf8.count)
        #expect(OutputMask.captureLimit(100, secrets: []) == 100)
    }
}
