import Foundation

/// Reading a JWT's claims without checking its signature: Rotor only wants
/// to know when a token it was given expires.
public enum JWT {
    /// The payload's claims, or nil when the token is not a JWT.
    public static func claims(_ token: String) -> [String: Any]? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let payload = base64URLDecode(String(parts[1])) else { return nil }
        return (try? JSONSerialization.jsonObject(with: payload)) as? [String: Any]
    }

    /// The `exp` claim as a date, if it is one.
    public static func expiry(_ token: String) -> Date? {
        guard let claims = claims(token), let exp = claims["exp"] as? NSNumber, exp.doubleValue.isFinite else {
            return nil
        }
        return Date(timeIntervalSince1970: exp.doubleValue)
    }

    /// What a token's `exp` says about when it expires.
    public enum Expiry: Equatable, Sendable {
        /// Not a JWT, or no `exp` claim.
        case none
        case at(Date)
        /// An `exp` that is not a number, or more than ``VendorAnswer/maximumLifetime`` from `now`.
        case outOfRange
    }

    /// The `exp` claim, judged against `now`.
    public static func expiry(_ token: String, near now: Date) -> Expiry {
        guard let claims = claims(token), let value = claims["exp"], !(value is NSNull) else { return .none }
        guard let exp = (value as? NSNumber)?.doubleValue, exp.isFinite,
            abs(exp - now.timeIntervalSince1970) <= VendorAnswer.maximumLifetime
        else { return .outOfRange }
        return .at(Date(timeIntervalSince1970: exp))
    }

    public static func base64URLDecode(_ text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }

    public static func base64URLEncode(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
