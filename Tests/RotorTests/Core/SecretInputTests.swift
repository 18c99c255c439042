import Foundation
import RotorCore
import Testing

struct SecretInputTests {
    @Test func oneTrailingNewlineIsDropped() throws {
        #expect(try Validate.secret(Array("abc\n".utf8), source: "stdin").reveal() == "abc")
        #expect(try Validate.secret(Array("abc\r\n".utf8), source: "stdin").reveal() == "abc")
        #expect(try Validate.secret(Array("abc".utf8), source: "stdin").reveal() == "abc")
    }

    @Test(arguments: ["", "\n", "a\nb", "ab\n\n", "a\u{0}b", "a\tb", String(repeating: "x", count: 4097)])
    func rejected(text: String) {
        #expect(throws: RotorError.self) { try Validate.secret(Array(text.utf8), source: "stdin") }
    }

    @Test func errorsNeverEchoTheSecret() {
        do {
            _ = try Validate.secret(Array("CANARY\nX".utf8), source: "stdin")
            Issue.record("accepted a secret with a newline")
        } catch {
            #expect(!error.message.contains("CANARY"))
        }
    }
}
