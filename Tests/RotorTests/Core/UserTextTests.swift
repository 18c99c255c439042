import Foundation
import RotorCore
import RotorSQLite
import Testing

/// The bounds and the quoting that keep hostile text from a person, the
/// environment, a file or the vendor from crashing Rotor or forging output.
/// `scripts/fuzz` drives the same functions with generated input.
struct UserTextTests {
    @Test func controlCharactersAreEscapedAndLongTextIsCut() {
        #expect(UserText.quoted("a\nb") == "'a\\nb'")
        #expect(UserText.quoted("\u{1b}[31mred") == "'\\u{1b}[31mred'")
        #expect(UserText.quoted("back\\slash") == "'back\\\\slash'")
        #expect(UserText.quoted("\u{9b}2J\u{202e}") == "'\\u{9b}2J\\u{202e}'")
        let long = UserText.quoted(String(repeating: "x", count: 100_000))
        #expect(long.count < 120)
        #expect(long.hasSuffix("…' (100000 characters)"))
    }

    @Test func plainNamesAreShownBareAndTheRestQuoted() {
        #expect(UserText.shown("billing-api_2") == "billing-api_2")
        #expect(UserText.shown("/var/lib/rotor/rotor.db") == "/var/lib/rotor/rotor.db")
        #expect(UserText.shown("two words") == "'two words'")
        #expect(UserText.shown("") == "''")
        #expect(UserText.shown("café") == "'café'")
    }

    @Test func aWholeLineStaysOneBoundedLine() {
        let line = UserText.escaped("Error: x\nError: forged\u{7}" + String(repeating: "y", count: 5000))
        #expect(!line.contains("\n"))
        #expect(!UserText.needsEscaping(line))
        #expect(line.unicodeScalars.count < 1100)
    }

    @Test func anUnexpectedArgumentIsNeverShown() throws {
        let message = UserText.parserMessage(
            "Error: 1 unexpected argument: 'CANARY-s3cret'\nUsage: rotor app add <name>",
            arguments: ["app", "add", "billing", "CANARY-s3cret"])
        let first = try #require(message.split(separator: "\n").first)
        #expect(first == "Error: 1 unexpected argument (argument 4), not shown in case it is a secret")
        #expect(!message.contains("CANARY"))
        #expect(message.contains("Usage: rotor app add <name>"))
    }

    @Test func anEchoedArgumentIsQuotedAndCut() {
        let hostile = "3\u{1b}]0;owned\u{7}" + String(repeating: "d", count: 10_000)
        let message = UserText.parserMessage(
            "Error: The value '\(hostile)' is invalid for '--every <duration>'", arguments: ["--every", hostile])
        #expect(!UserText.needsEscaping(message))
        #expect(message.count < 300)
        #expect(message.contains("(10011 characters)"))
    }
}
