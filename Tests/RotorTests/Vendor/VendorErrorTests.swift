import Foundation
import RotorCore
import RotorTesting
import Testing
import VitaleraClient
import VitaleraSandbox

struct VendorErrorTests {
    struct Case: Sendable, CustomStringConvertible {
        var status: Int
        var body: String
        var grant: Bool
        var kind: VendorError.Kind
        var code: String?
        var description: String { "\(status) \(body.prefix(40)) grant=\(grant)" }
    }

    static let cases: [Case] = [
        Case(
            status: 401, body: #"{"errors":[{"errorType":"expired_token","message":"Access token expired"}]}"#,
            grant: false, kind: .expiredToken, code: "expired_token"),
        Case(
            status: 401, body: #"{"detail":"Given token not valid for any token type","code":"token_not_valid"}"#,
            grant: false, kind: .invalidToken, code: "token_not_valid"),
        Case(
            status: 401, body: #"{"errors":[{"errorType":"invalid_client","message":"Invalid client credentials"}]}"#,
            grant: true, kind: .invalidCredentials, code: "invalid_client"),
        Case(status: 400, body: #"{"error":"invalid_grant"}"#, grant: true, kind: .badRequest, code: nil),
        Case(
            status: 400, body: #"{"errors":[{"errorType":"invalid_grant","message":"bad"}]}"#, grant: true,
            kind: .invalidCredentials, code: "invalid_grant"),
        Case(
            status: 400, body: #"{"application_id":["This field is required."]}"#, grant: false, kind: .badRequest,
            code: "validation"),
        Case(
            status: 422, body: #"{"detail":"Unprocessable","code":"invalid"}"#, grant: false, kind: .badRequest,
            code: "invalid"),
        Case(
            status: 403,
            body: #"{"detail":"You do not have permission to perform this action.","code":"permission_denied"}"#,
            grant: false, kind: .forbidden, code: "permission_denied"),
        Case(
            status: 404, body: #"{"detail":"Not found.","code":"not_found"}"#, grant: false, kind: .notFound,
            code: "not_found"),
        Case(
            status: 429, body: #"{"detail":"Request was throttled.","code":"throttled"}"#, grant: false,
            kind: .rateLimited, code: "throttled"),
        Case(status: 500, body: "", grant: false, kind: .serverError, code: nil),
        Case(status: 502, body: "<html><body>Bad Gateway</body></html>", grant: true, kind: .serverError, code: nil),
        Case(status: 503, body: #"{"detail":"maintenance"}"#, grant: false, kind: .serverError, code: nil),
        Case(status: 418, body: "teapot", grant: false, kind: .malformedAnswer, code: nil),
    ]

    @Test(arguments: cases)
    func classification(input: Case) {
        let error = VendorError.classify(
            status: input.status, body: Array(input.body.utf8), retryAfter: nil, grant: input.grant)
        #expect(error.kind == input.kind)
        #expect(error.status == input.status)
        #expect(error.code == input.code)
    }

    @Test func retryAfterInSecondsOrAsADate() {
        #expect(VendorError.classify(status: 429, body: [], retryAfter: "12", grant: false).retryAfter == 12)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let soon = VendorError.parseRetryAfter(formatter.string(from: Date().addingTimeInterval(120)))
        #expect((60...121).contains(soon ?? 0))
        #expect(VendorError.parseRetryAfter("soon") == nil)
        // However far off the vendor says, Rotor waits at most the hour every backoff is capped at.
        #expect(VendorError.parseRetryAfter("Wed, 21 Oct 2099 07:28:00 GMT") == VendorError.maximumRetryAfter)
        #expect(VendorError.parseRetryAfter("1e300") == VendorError.maximumRetryAfter)
    }

    @Test func secretsInAVendorMessageAreMasked() {
        let error = VendorError.classify(
            status: 400, body: Array(#"{"detail":"bad secret CANARY-123 given","code":"x"}"#.utf8), retryAfter: nil,
            grant: true, masking: ["CANARY-123"])
        #expect(!error.description.contains("CANARY-123"))
        #expect(error.message.contains("<redacted>"))
    }

    @Test func controlCharactersAndLengthAreTamed() {
        let body = #"{"detail":"line one\nline two\u0007"# + String(repeating: "y", count: 5000) + #"","code":"c"}"#
        let error = VendorError.classify(status: 400, body: Array(body.utf8), retryAfter: nil, grant: false)
        #expect(!error.message.contains("\n"))
        #expect(error.message.count <= 300)
    }

    /// A property: no byte string, as an error body of any status, crashes
    /// classification or yields anything but a bounded one-line message.
    @Test func randomBodiesNeverBreakClassification() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let count = Int.random(in: 0..<300, using: &generator)
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let status = [400, 401, 403, 404, 418, 422, 429, 500, 503].randomElement(using: &generator)!
            let error = VendorError.classify(status: status, body: bytes, retryAfter: nil, grant: Bool.random())
            #expect(!error.message.contains("\n"))
            #expect(error.message.count <= 300)
        }
    }
}
