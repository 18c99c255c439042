import Foundation

/// Checks of what operators type, each failing with one sentence that says
/// what is accepted.
public enum Validate {
    /// `[a-z0-9][a-z0-9._-]*`, at most 64 characters.
    public static func name(_ text: String, kind: String = "app") throws(RotorError) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789._-")
        guard let first = text.first, first.isASCII, first.isLetter || first.isNumber, text.count <= 64,
            text.allSatisfy({ allowed.contains($0) })
        else {
            throw RotorError(
                .invalidInput,
                "\(kind) name \(UserText.quoted(text)) is not valid: use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit, at most 64 characters"
            )
        }
        return text
    }

    /// A vendor identifier (application ID, client ID, username): visible
    /// ASCII, no spaces, 1 to 256 characters.
    public static func identifier(_ text: String, option: String) throws(RotorError) -> String {
        guard !text.isEmpty, text.utf8.count <= 256, text.utf8.allSatisfy({ (0x21...0x7e).contains($0) }) else {
            throw RotorError(
                .invalidInput, "\(option) must be 1 to 256 visible ASCII characters without spaces")
        }
        return text
    }

    /// A secret read from stdin or a file: one trailing newline (LF or CRLF)
    /// is dropped; it must then be non-empty, at most 4 KiB, with no control
    /// characters (so no newline inside).
    public static func secret(_ raw: [UInt8], source: String) throws(RotorError) -> Secret {
        var bytes = raw[...]
        if bytes.last == 0x0a { bytes = bytes.dropLast() }
        if bytes.last == 0x0d { bytes = bytes.dropLast() }
        guard !bytes.isEmpty else {
            throw RotorError(.invalidInput, "the secret from \(source) is empty")
        }
        guard bytes.count <= 4096 else {
            throw RotorError(.invalidInput, "the secret from \(source) is longer than 4096 bytes")
        }
        guard !bytes.contains(where: { $0 < 0x20 || $0 == 0x7f }) else {
            throw RotorError(
                .invalidInput,
                "the secret from \(source) contains a newline or another control character; give exactly one line")
        }
        guard let text = String(bytes: bytes, encoding: .utf8) else {
            throw RotorError(.invalidInput, "the secret from \(source) is not UTF-8 text")
        }
        return Secret(text)
    }

    /// The vendor's base URL: https, or http to a loopback host only.
    /// Returns it without a trailing slash.
    public static func apiURL(_ text: String) throws(RotorError) -> String {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty, components.user == nil, components.password == nil,
            components.query == nil, components.fragment == nil
        else {
            throw RotorError(
                .invalidInput, "--api-url \(UserText.quoted(text)) is not an http(s) URL like https://api.vitalera.io")
        }
        // URLComponents takes ports past 65535, and forgets one too long for an Int.
        let authority = text.split(separator: "/", maxSplits: 3).dropFirst().first ?? ""
        let portText = authority.split(separator: "]", omittingEmptySubsequences: false).last?.split(
            separator: ":", omittingEmptySubsequences: false)
        if let port = components.port, !(1...65535).contains(port) {
            throw RotorError(.invalidInput, "--api-url has port \(port); a port is 1 to 65535")
        }
        if components.port == nil, (portText?.count ?? 0) > 1 {
            throw RotorError(.invalidInput, "--api-url \(UserText.quoted(text)) has a port that is not 1 to 65535")
        }
        switch scheme {
        case "https": break
        case "http":
            guard isLoopback(host) else {
                throw RotorError(
                    .invalidInput,
                    "--api-url uses plain http to \(host), which is not loopback; use https (http is allowed only for localhost, 127.0.0.0/8 and ::1)"
                )
            }
        default:
            throw RotorError(.invalidInput, "--api-url must start with https:// (or http:// for a loopback host)")
        }
        var result = text
        while result.hasSuffix("/") { result.removeLast() }
        return result
    }

    /// localhost, 127.0.0.0/8 or ::1.
    public static func isLoopback(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        if bare == "localhost" || bare == "::1" || bare == "0:0:0:0:0:0:0:1" { return true }
        let octets = bare.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets[0] == "127" else { return false }
        return octets.allSatisfy { Int($0).map { (0...255).contains($0) } ?? false }
    }

    /// An IANA time zone name.
    public static func timezone(_ text: String) throws(RotorError) -> String {
        guard TimeZone(identifier: text) != nil else {
            throw RotorError(
                .invalidInput,
                "--timezone \(UserText.quoted(text)) is not an IANA time zone like UTC or Europe/Amsterdam")
        }
        return text
    }
}
