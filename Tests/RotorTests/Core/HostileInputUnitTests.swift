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

struct BoundsTests {
    @Test(arguments: ["36501d", "106751991167d", "99999999999999999999s", "+5d", "5 d", "\u{663}d", "-1d", "0x10s"])
    func anOutOfRangeOrOddDurationIsRefused(_ text: String) {
        #expect(throws: RotorError.self) { try DurationText.parse(text, option: "--every") }
    }

    @Test func theLongestDurationIsAHundredYears() throws {
        #expect(try DurationText.parse("36500d", option: "--every") == DurationText.maximum)
        #expect(DurationText.isInRange(DurationText.maximum))
        #expect(!DurationText.isInRange(DurationText.maximum + 1))
    }

    @Test(arguments: ["1e10", "inf", "nan", "3601", "-1", "2147484", "1e308", "15s", ""])
    func aBusyTimeoutOutOfRangeIsRefused(_ text: String) throws {
        let error = try #require(throws: RotorError.self) {
            try SQLiteStore.busyTimeout(parsing: text, option: "ROTOR_BUSY_TIMEOUT")
        }
        #expect(error.message.contains("from 0 to 3600"))
    }

    @Test func aBusyTimeoutInRangeIsTaken() throws {
        #expect(try SQLiteStore.busyTimeout(parsing: "0", option: "x") == 0)
        #expect(try SQLiteStore.busyTimeout(parsing: "0.5", option: "x") == 0.5)
        #expect(try SQLiteStore.busyTimeout(parsing: "3600", option: "x") == 3600)
    }

    @Test(arguments: [1e300, -1e300, Double.infinity, -Double.infinity, Double.nan, 1e15, -1e15])
    func anyDateFormatsAndSaturates(_ seconds: Double) {
        let date = Date(timeIntervalSince1970: seconds)
        #expect(RFC3339.format(date).utf8.count == 24)
        #expect(Date.rfc3339Range.contains(date.unixMilliseconds) || seconds.isNaN)
    }

    @Test func retryAfterIsCappedAtAnHour() throws {
        #expect(VendorError.parseRetryAfter("999999999") == VendorError.maximumRetryAfter)
        #expect(VendorError.parseRetryAfter("1e308") == VendorError.maximumRetryAfter)
        #expect(VendorError.parseRetryAfter("Fri, 31 Dec 9999 23:59:59 GMT") == VendorError.maximumRetryAfter)
        #expect(VendorError.parseRetryAfter("-5") == nil)
        #expect(VendorError.parseRetryAfter("soon") == nil)
    }
}

struct VendorAnswerBoundsTests {
    let now = Date(timeIntervalSince1970: 1_796_000_000)

    func token(exp: String) -> String {
        "eyJhbGciOiJIUzI1NiJ9.\(JWT.base64URLEncode(Data("{\"exp\":\(exp)}".utf8))).c2ln"
    }

    func grant(_ body: String) throws -> AccessToken {
        let answer = try VendorAnswer.object(Array(body.utf8), status: 200)
        return try VendorAnswer.accessToken(answer, now: now)
    }

    @Test(arguments: ["1e300", "-1e300", "-1", "0", "100000000000000000000000000000", "31708800", "\"3600\""])
    func anExpiresInOutOfRangeIsAMalformedAnswer(_ value: String) {
        let error = #expect(throws: VendorError.self) {
            try grant("{\"access_token\":\"abc.def.ghi\",\"expires_in\":\(value)}")
        }
        #expect(error?.kind == .malformedAnswer)
    }

    @Test func anExpiresInWithinAYearIsTaken() throws {
        #expect(try grant("{\"access_token\":\"abc.def.ghi\",\"expires_in\":3600}").expiresAt == now + 3600)
        #expect(try grant("{\"access_token\":\"abc.def.ghi\",\"expires_in\":31622400}").expiresAt == now + 31_622_400)
    }

    @Test(arguments: ["1e300", "-1e300", "9223372036854775807", "\"tomorrow\"", "1796000000e10"])
    func aJWTExpiryFarFromNowIsOutOfRange(_ exp: String) throws {
        #expect(JWT.expiry(token(exp: exp), near: now) == .outOfRange)
        let error = #expect(throws: VendorError.self) {
            try grant("{\"access_token\":\"\(token(exp: exp))\"}")
        }
        #expect(error?.kind == .malformedAnswer)
    }

    @Test func aJWTExpiryNearNowIsTaken() throws {
        #expect(JWT.expiry(token(exp: "1796003600"), near: now) == .at(now + 3600))
        #expect(try grant("{\"access_token\":\"\(token(exp: "1796003600"))\"}").expiresAt == now + 3600)
    }
}
