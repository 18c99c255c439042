import Foundation
import RotorCore
import RotorSQLite
import Testing

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
