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

    /// The `exp` claim as a date.
    public static func expiry(_ token: String) -> Date? {
        guard let claims = claims(token) else { return nil }
        if let exp = claims["exp"] as? Double { return Date(timeIntervalSince1970: exp) }
        if let exp = claims["exp"] as? Int { return Date(timeIntervalSince1970: TimeInterval(exp)) }
        return nil
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
