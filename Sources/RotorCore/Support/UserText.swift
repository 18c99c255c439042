/// Text that came from a person, the environment, a file or the vendor, made
/// safe to show in a one-line message: control characters escaped (so no
/// forged second line and no terminal escape sequence), and long text cut.
///
/// Every message that echoes such text goes through ``quoted(_:limit:)``;
/// whole lines written to a terminal go through ``escaped(_:)`` as a last
/// line of defence.
public enum UserText {
    /// The most characters of one value a message shows.
    public static let shownLimit = 80

    /// `'text'` with control characters and backslashes escaped, cut to
    /// `limit` characters: `'a\nb'`, `'\u{1b}[31m'`, `'aaa…' (100064 characters)`.
    public static func quoted(_ text: some StringProtocol, limit: Int = shownLimit) -> String {
        let count = text.count
        var body = ""
        for character in text.prefix(limit) {
            for scalar in character.unicodeScalars {
                body += scalar == "\\" ? "\\\\" : escape(scalar)
            }
        }
        return count > limit ? "'\(body)…' (\(count) characters)" : "'\(body)'"
    }

    /// A name or path as it is when it is plain (letters, digits and
    /// `._-/:@+=,`, at most 80 characters), else ``quoted(_:limit:)``.
    public static func shown(_ text: some StringProtocol) -> String {
        let plain =
            !text.isEmpty && text.count <= shownLimit
            && text.unicodeScalars.allSatisfy { scalar in
                scalar.isASCII
                    && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
                        || "._-/:@+=,".unicodeScalars.contains(scalar))
            }
        return plain ? String(text) : quoted(text)
    }

    /// `line` with every control character escaped and at most `limit`
    /// characters, so that it stays one line and cannot steer a terminal.
    public static func escaped(_ line: some StringProtocol, limit: Int = 1024) -> String {
        var result = ""
        for scalar in line.unicodeScalars.prefix(limit) { result += escape(scalar) }
        if line.unicodeScalars.count > limit { result += "… (cut)" }
        return result
    }

    /// Whether `text` holds anything ``escaped(_:limit:)`` would change.
    public static func needsEscaping(_ text: some StringProtocol) -> Bool {
        text.unicodeScalars.contains(where: isUnsafe)
    }

    static func escape(_ scalar: Unicode.Scalar) -> String {
        guard isUnsafe(scalar) else { return String(scalar) }
        switch scalar {
        case "\n": return "\\n"
        case "\r": return "\\r"
        case "\t": return "\\t"
        default: return "\\u{" + String(scalar.value, radix: 16) + "}"
        }
    }

    /// C0 and C1 controls, DEL, line and paragraph separators, and the
    /// bidirectional overrides that reorder what a terminal shows.
    static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1f, 0x7f...0x9f, 0x2028, 0x2029, 0x200e, 0x200f, 0x202a...0x202e, 0x2066...0x2069, 0xfeff:
            true
        default: false
        }
    }

    /// The argument parser's message about `arguments` (without the program
    /// name), made safe: an unexpected argument, or a value given to a flag,
    /// is not shown at all (it may be a secret typed in the wrong place), and
    /// every other echoed argument is shown as ``quoted(_:limit:)`` shows it.
    public static func parserMessage(_ message: String, arguments: [String]) -> String {
        let split = message.range(of: "\nUsage:")?.lowerBound ?? message.endIndex
        var head = String(message[..<split])
        if head.contains("nexpected argument") {
            let positions = arguments.indices.filter { head.contains("'\(arguments[$0])'") }.map { $0 + 1 }
            let count = max(positions.count, 1)
            let which =
                positions.isEmpty
                ? ""
                : " (\(positions.count == 1 ? "argument" : "arguments") \(positions.map(String.init).joined(separator: ", ")))"
            head =
                "Error: \(count) unexpected \(count == 1 ? "argument" : "arguments")\(which), not shown in case it is a secret"
        } else if let taking = head.range(of: " does not take any value, but '") {
            head = String(head[..<taking.lowerBound]) + " does not take a value (the value given is not shown)."
        }
        var message = head + message[split...]
        for argument in Set(arguments).sorted(by: { $0.count > $1.count })
        where argument.count > shownLimit || needsEscaping(argument) {
            message = message.replacingOccurrences(of: "'\(argument)'", with: quoted(argument))
            message = message.replacingOccurrences(of: argument, with: quoted(argument))
        }
        return message.split(separator: "\n", omittingEmptySubsequences: false).map { escaped($0) }.joined(
            separator: "\n")
    }
}
