import Crypto
import Foundation

/// Sends a webhook's POST (``WebhookTarget``); the HTTP client lives outside
/// the core, like the vendor client, so that tests and the core need no network.
public protocol WebhookPoster: Sendable {
    /// POSTs `body` with `headers` and returns the HTTP status; throws
    /// ``RotorError`` when no answer came within `timeout`.
    func post(url: String, headers: [(String, String)], body: [UInt8], timeout: TimeInterval) async throws -> Int
}

/// Builds a webhook request: the `json` document, `Content-Type`, the
/// target's own headers, and with a key file `X-Rotor-Signature:
/// sha256=<hex HMAC-SHA256 of the body>`.
public enum WebhookRequest {
    /// `Name: value` lines, as `--header` takes them; a line without a name and a colon is refused.
    public static func headers(_ lines: [String]) throws(RotorError) -> [(String, String)] {
        try lines.map { line throws(RotorError) in
            guard let colon = line.firstIndex(of: ":") else {
                throw RotorError(.invalidInput, "--header takes 'Name: value', not a line without a colon")
            }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty, name.utf8.allSatisfy({ (0x21...0x7e).contains($0) && $0 != UInt8(ascii: ":") }),
                !value.utf8.contains(where: { $0 < 0x20 || $0 == 0x7f })
            else {
                throw RotorError(
                    .invalidInput, "--header takes 'Name: value' with a token name and no control character")
            }
            return (name, value)
        }
    }

    /// The signing key from `path`: the file's bytes without a trailing newline, at least 16 bytes.
    public static func signingKey(_ path: String) throws(RotorError) -> [UInt8] {
        var bytes: [UInt8]
        do {
            bytes = try Files.read(path, limit: 4096)
        } catch {
            throw RotorError(.invalidInput, "the webhook's signing key: \(error)")
        }
        while bytes.last == 0x0a || bytes.last == 0x0d { bytes.removeLast() }
        guard bytes.count >= 16 else {
            throw RotorError(
                .invalidInput, "the webhook's signing key in \(UserText.shown(path)) is shorter than 16 bytes")
        }
        return bytes
    }

    /// The headers every webhook request carries: `Content-Type`, and with a
    /// key file `X-Rotor-Signature` of `body` (the key is read now).
    public static func standardHeaders(for body: [UInt8], secretFile: String?) throws(RotorError) -> [(String, String)]
    {
        var headers = [("Content-Type", "application/json")]
        if let secretFile {
            headers.append(("X-Rotor-Signature", signature(body, key: try signingKey(secretFile))))
        }
        return headers
    }

    /// `sha256=<hex>` of `body` under `key`.
    public static func signature(_ body: [UInt8], key: [UInt8]) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: key))
        return "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
    }
}
