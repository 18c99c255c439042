import Foundation

/// The vendor's 2xx answers, parsed: whatever the body holds, the result is
/// a typed value or a ``VendorError`` of kind `malformedAnswer`, never a trap.
/// Error answers are ``VendorError/classify(status:body:retryAfter:grant:masking:)``'s.
public enum VendorAnswer {
    /// The longest token lifetime taken from an answer: one year (the
    /// vendor's is an hour). Anything longer is a malformed answer.
    public static let maximumLifetime: TimeInterval = 366 * 86400
    /// The lifetime assumed when an answer states none.
    public static let assumedLifetime: TimeInterval = 300

    /// The JSON object of a 2xx body; an empty body is an empty object.
    public static func object(_ bytes: [UInt8], status: Int) throws(VendorError) -> [String: Any] {
        if bytes.isEmpty { return [:] }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] else {
            throw VendorError(.malformedAnswer, status: status, message: "the answer is not a JSON object")
        }
        return object
    }

    /// A grant's (or a refresh's) access token and when it expires:
    /// `expires_in`, else the JWT's `exp`, else ``assumedLifetime``.
    public static func accessToken(_ answer: [String: Any], now: Date) throws(VendorError) -> AccessToken {
        guard let token = answer["access_token"] as? String, isCredential(token) else {
            throw VendorError(.malformedAnswer, status: 200, message: "the grant answer has no access_token")
        }
        let expiresAt: Date
        if let value = answer["expires_in"], !(value is NSNull) {
            guard let seconds = number(value), seconds > 0, seconds <= maximumLifetime else {
                throw VendorError(
                    .malformedAnswer, status: 200,
                    message: "the grant answer's expires_in is not a number of seconds from 1 to 366 days")
            }
            expiresAt = now.addingTimeInterval(seconds)
        } else {
            switch JWT.expiry(token, near: now) {
            case .at(let date): expiresAt = date
            case .none: expiresAt = now.addingTimeInterval(assumedLifetime)
            case .outOfRange:
                throw VendorError(
                    .malformedAnswer, status: 200,
                    message: "the access token's exp claim is not a time within 366 days of now")
            }
        }
        return AccessToken(token: Secret(token), expiresAt: expiresAt)
    }

    /// A password grant's or a refresh's tokens; a refresh answer without a
    /// refresh token keeps `previous`.
    public static func userTokens(_ answer: [String: Any], now: Date, keepingRefresh previous: Secret? = nil)
        throws(VendorError) -> UserTokens
    {
        let access = try accessToken(answer, now: now)
        var refresh = previous
        if let text = answer["refresh_token"] as? String, isCredential(text) { refresh = Secret(text) }
        return UserTokens(access: access, refreshToken: refresh, userID: string(answer["sub"]))
    }

    /// `rotate_credentials`' new pair.
    public static func rotatedPair(_ answer: [String: Any], applicationID: String) throws(VendorError) -> RotatedPair {
        guard let clientID = answer["client_id"] as? String, let secret = answer["client_secret"] as? String,
            isCredential(clientID), isCredential(secret)
        else {
            throw VendorError(
                .malformedAnswer, status: 200, message: "the rotate answer has no usable client_id and client_secret")
        }
        return RotatedPair(
            applicationID: identifier(answer["id"]) ?? applicationID, name: string(answer["name"]),
            organization: string(answer["organization"]), clientID: clientID, clientSecret: Secret(secret))
    }

    /// A string, or a number written as a string.
    static func string(_ value: Any?) -> String? {
        if let text = value as? String { return text }
        if let number = value as? NSNumber { return number.stringValue }
        return nil
    }

    /// An id as ``string(_:)`` reads it, if it could be one: 1 to 256 visible characters.
    static func identifier(_ value: Any?) -> String? {
        string(value).flatMap { text in isCredential(text) && text.utf8.count <= 256 ? text : nil }
    }

    /// A finite JSON number.
    static func number(_ value: Any) -> Double? {
        guard let number = value as? NSNumber else { return nil }
        let double = number.doubleValue
        return double.isFinite ? double : nil
    }

    /// 1 to 4096 visible characters: what a credential or token can be.
    public static func isCredential(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 4096
            && !text.unicodeScalars.contains { $0.value < 0x21 || $0.value == 0x7f }
    }
}
