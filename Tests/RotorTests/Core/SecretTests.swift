import Foundation
import RotorCore
import Testing

struct SecretTests {
    let canary = "CANARY-7f3a9c-secret"

    @Test func everyPrintingPathIsRedacted() throws {
        let secret = Secret(canary)
        var dumped = ""
        dump(secret, to: &dumped)
        let encoded = String(decoding: try JSONEncoder().encode(["s": secret]), as: UTF8.self)
        for text in [
            secret.description, secret.debugDescription, "\(secret)", String(reflecting: secret), dumped, encoded,
        ] {
            #expect(!text.contains(canary), "leaked in: \(text)")
            #expect(text.contains("redacted"))
        }
        #expect(secret.reveal() == canary)
    }

    @Test func decodingReadsTheValue() throws {
        let decoded = try JSONDecoder().decode([String: Secret].self, from: Data("{\"s\":\"\(canary)\"}".utf8))
        #expect(decoded["s"]?.reveal() == canary)
    }
}
