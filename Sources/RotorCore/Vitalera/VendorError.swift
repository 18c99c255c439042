import Foundation

/// Any failure of a call to the vendor, classified so that callers can
/// decide what it proves. It carries the HTTP status and the vendor's code
/// and message (control characters removed, length capped, and any secret
/// sent with the request masked), never a token or secret.
public struct VendorError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        /// The grant rejected the client ID and secret (or username and password).
        case invalidCredentials = "invalid_credentials"
        /// The bearer token has expired.
        case expiredToken = "expired_token"
        /// The bearer token is not valid (revoked, malformed, unknown).
        case invalidToken = "invalid_token"
        case forbidden
        case notFound = "not_found"
        /// 400 or 422: the vendor refused the request's content.
        case badRequest = "bad_request"
        /// 429; see ``retryAfter``.
        case rateLimited = "rate_limited"
        /// 5xx.
        case serverError = "server_error"
        /// No answer: refused, reset, timed out, TLS failure.
        case networkError = "network_error"
        /// An answer that could not be read: not JSON, missing fields, too large.
        case malformedAnswer = "malformed_answer"
    }

    public var kind: Kind
    public var status: Int?
    /// The vendor's error code (`errorType` or `code`), when it sent one.
    public var code: String?
    /// The vendor's message or a description of the failure.
    public var message: String
    /// Seconds to wait before retrying, from `Retry-After`.
    public var retryAfter: TimeInterval?

    public init(
        _ kind: Kind, status: Int? = nil, code: String? = nil, message: String, retryAfter: TimeInterval? = nil
    ) {
        self.kind = kind
        self.status = status
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
    }

    /// Whether an idempotent call may be tried again after this failure.
    public var isTransient: Bool {
        switch kind {
        case .rateLimited, .serverError, .networkError: true
        default: false
        }
    }

    public var description: String {
        var parts = [kind.rawValue.replacingOccurrences(of: "_", with: " ")]
        if let status { parts.append("HTTP \(status)") }
        if let code { parts.append(code) }
        return parts.joined(separator: ", ") + ": " + message
    }
}

extension VendorError {
    /// Classifies an HTTP error answer. `grant` is true for the token
    /// endpoint, where 401 means the credentials were rejected; elsewhere
    /// 401 means the bearer token was.
    public static func classify(
        status: Int, body: [UInt8], retryAfter: String?, grant: Bool, masking secrets: [String] = []
    ) -> VendorError {
        let parsed = VendorErrorBody.parse(body)
        let code = parsed.code.map { mask(clean($0), secrets) }
        let message = mask(clean(parsed.message ?? "HTTP \(status) with no readable error body"), secrets)
        let lowered = (parsed.code ?? "").lowercased() + " " + (parsed.message ?? "").lowercased()
        let expired =
            parsed.code?.lowercased() == "expired_token"
            || ["access token expired", "token has expired", "token expired"].contains {
                parsed.message?.lowercased().contains($0) == true
            }
        let kind: Kind
        switch status {
        case 401:
            if expired {
                kind = .expiredToken
            } else {
                kind = grant ? .invalidCredentials : .invalidToken
            }
        case 400 where grant && (lowered.contains("invalid_client") || lowered.contains("invalid_grant")):
            kind = .invalidCredentials
        case 400, 422: kind = .badRequest
        case 403: kind = .forbidden
        case 404: kind = .notFound
        case 429: kind = .rateLimited
        case 500...599: kind = .serverError
        default: kind = .malformedAnswer
        }
        return VendorError(
            kind, status: status, code: code, message: message, retryAfter: retryAfter.flatMap(parseRetryAfter))
    }

    /// The longest `Retry-After` honoured: an hour, the cap of every backoff.
    public static let maximumRetryAfter: TimeInterval = 3600

    /// `Retry-After` as seconds: a number, or an HTTP date; at most
    /// ``maximumRetryAfter``.
    public static func parseRetryAfter(_ text: String) -> TimeInterval? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(trimmed), seconds >= 0, seconds.isFinite { return min(seconds, maximumRetryAfter) }
        return HTTPDate.parse(trimmed).map { min(max(0, $0.timeIntervalSinceNow), maximumRetryAfter) }
    }

    /// At most 300 characters with control characters replaced.
    static func clean(_ text: String) -> String {
        let scalars = text.unicodeScalars.prefix(300).map { $0.value < 0x20 || $0.value == 0x7f ? " " : Character($0) }
        return String(scalars)
    }

    static func mask(_ text: String, _ secrets: [String]) -> String {
        secrets.filter { $0.count >= 4 }.reduce(text) { $0.replacingOccurrences(of: $1, with: "<redacted>") }
    }
}

/// The vendor's error bodies: `{"errors":[{"errorType","message"}]}`,
/// `{"detail","code"}`, validation maps `{"field":["message"]}`, or anything else.
enum VendorErrorBody {
    static func parse(_ body: [UInt8]) -> (code: String?, message: String?) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body), options: []) as? [String: Any] else {
            return (nil, nil)
        }
        if let errors = object["errors"] as? [Any], let first = errors.first as? [String: Any] {
            return (first["errorType"] as? String ?? first["code"] as? String, first["message"] as? String)
        }
        if let detail = object["detail"] as? String {
            return (object["code"] as? String, detail)
        }
        let fields = object.compactMap { key, value -> String? in
            guard let messages = value as? [Any] else { return nil }
            return "\(key): " + messages.compactMap { $0 as? String }.joined(separator: " ")
        }.sorted()
        return fields.isEmpty ? (nil, nil) : ("validation", fields.joined(separator: "; "))
    }
}
