import Foundation
import RotorCore

/// One fuzz target: takes any bytes, and traps (a finding) only when a
/// parser breaks a promise — a crash, or a result that violates the
/// property checked after it.
struct FuzzTarget: Sendable {
    let name: String
    let run: @Sendable ([UInt8]) -> Void
}

/// A property that must hold; a violation is a finding.
func require(_ condition: Bool, _ what: @autoclosure () -> String) {
    if !condition { fatalError("property violated: \(what())") }
}

/// The bytes as text, the way a command line or a file would hand them over.
func text(_ bytes: some Collection<UInt8>) -> String {
    String(decoding: bytes, as: UTF8.self)
}

/// A fixed instant, so that every run of an input does the same.
let now = Date(timeIntervalSince1970: 1_796_000_000)

/// A key and keyring made once per process, for sealing and opening spill files.
let keyring = Keyring(master: MasterKey.generate(), databaseID: "fuzz", root: Keyring.newRoot())

enum FuzzTargets {
    static let all: [FuzzTarget] = [
        FuzzTarget(name: "duration", run: duration),
        FuzzTarget(name: "cron", run: cron),
        FuzzTarget(name: "window", run: window),
        FuzzTarget(name: "url", run: url),
        FuzzTarget(name: "keyfile", run: keyFile),
        FuzzTarget(name: "spill", run: spill),
        FuzzTarget(name: "vendor", run: vendor),
        FuzzTarget(name: "jwt", run: jwt),
        FuzzTarget(name: "time", run: time),
        FuzzTarget(name: "usertext", run: userText),
        FuzzTarget(name: "output", run: output),
        FuzzTarget(name: "template", run: template),
    ]

    /// `--every`, `--jitter`, timeouts: bounded, and the shortest text of a
    /// duration parses back to it.
    static func duration(_ bytes: [UInt8]) {
        guard let seconds = try? DurationText.parse(text(bytes), option: "--every") else { return }
        require(DurationText.isInRange(seconds), "\(seconds) is out of range")
        let again = try? DurationText.parse(DurationText.format(seconds), option: "--every")
        require(again == seconds, "format(\(seconds)) does not parse back")
        _ = DurationText.age(seconds)
    }

    /// `--cron`: the next time is after the start, in any zone.
    static func cron(_ bytes: [UInt8]) {
        guard bytes.count <= 256, let expression = try? CronExpression(parsing: text(bytes)) else { return }
        for zone in ["UTC", "Europe/Amsterdam"] {
            if let next = expression.next(after: now, in: TimeZone(identifier: zone)!) {
                require(next > now, "next \(next) is not after \(now)")
            }
        }
    }

    /// `--window`: its text parses back to it, and every minute is in or out.
    static func window(_ bytes: [UInt8]) {
        guard let window = try? TimeWindow(parsing: text(bytes)) else { return }
        require((try? TimeWindow(parsing: window.description)) == window, "\(window) does not parse back")
        for minute in stride(from: 0, to: 1440, by: 7) { _ = window.contains(minuteOfDay: minute) }
    }

    /// `--api-url`: what is accepted is https, or http to loopback, with a real port.
    static func url(_ bytes: [UInt8]) {
        guard let accepted = try? Validate.apiURL(text(bytes)) else { return }
        require(!accepted.hasSuffix("/"), "\(accepted) keeps a trailing slash")
        let components = URLComponents(string: accepted)
        require(components != nil, "\(accepted) does not parse again")
        let scheme = components?.scheme?.lowercased()
        require(
            scheme == "https" || (scheme == "http" && Validate.isLoopback(components?.host ?? "")),
            "\(accepted) is neither https nor http to loopback")
        if let port = components?.port { require((1...65535).contains(port), "\(accepted) has port \(port)") }
    }

    /// A master key file: what parses writes back to the same key.
    static func keyFile(_ bytes: [UInt8]) {
        guard let key = MasterKey.parse(bytes) else { return }
        require(MasterKey.parse(key.fileBytes())?.id == key.id, "key \(key.id) does not round-trip")
    }

    /// A spill file: the raw file (even first byte), or a sealed payload of
    /// the fuzzer's choosing (odd), which reaches the JSON inside the box.
    static func spill(_ bytes: [UInt8]) {
        guard let first = bytes.first else { return }
        let file: [UInt8]
        if first % 2 == 0 {
            file = Array(bytes.dropFirst())
        } else {
            guard let box = try? keyring.seal(Secret(text(bytes.dropFirst())), for: .spill(rotationID: 7)) else {
                return
            }
            file = Array("rotor-spill v1 7 \(box.base64EncodedString())\n".utf8)
        }
        guard let spill = try? SpillFile.parse(file, path: "fuzz.spill", keyring: keyring) else { return }
        require(
            VendorAnswer.isCredential(spill.clientID) && VendorAnswer.isCredential(spill.clientSecret.reveal()),
            "a spill file gave an unusable pair")
    }

    /// The vendor's answers: the first byte picks the endpoint (and, for an
    /// error answer, the status and whether it was a grant), the rest is the body.
    static func vendor(_ bytes: [UInt8]) {
        guard let selector = bytes.first else { return }
        let body = Array(bytes.dropFirst())
        switch selector % 5 {
        case 0:
            guard let answer = try? VendorAnswer.object(body, status: 200),
                let token = try? VendorAnswer.accessToken(answer, now: now)
            else { return }
            checkLifetime(token.expiresAt)
        case 1:
            guard let answer = try? VendorAnswer.object(body, status: 200),
                let tokens = try? VendorAnswer.userTokens(answer, now: now, keepingRefresh: Secret("previous"))
            else { return }
            checkLifetime(tokens.access.expiresAt)
        case 2:
            guard let answer = try? VendorAnswer.object(body, status: 200),
                let pair = try? VendorAnswer.rotatedPair(answer, applicationID: "app")
            else { return }
            require(
                VendorAnswer.isCredential(pair.clientID) && VendorAnswer.isCredential(pair.clientSecret.reveal()),
                "a rotate answer gave an unusable pair")
        case 3:
            let status = 400 + Int(selector / 5) % 200
            let error = VendorError.classify(
                status: status, body: body, retryAfter: nil, grant: selector & 0x80 != 0, masking: ["masked-secret"])
            require(
                !error.description.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f },
                "an error message holds a control character")
            require(!error.description.contains("masked-secret"), "an error message shows a masked secret")
        default:
            if let seconds = VendorError.parseRetryAfter(text(body)) {
                require(
                    (0...VendorError.maximumRetryAfter).contains(seconds), "Retry-After gave \(seconds) seconds")
            }
        }
    }

    static func checkLifetime(_ expiresAt: Date) {
        require(
            abs(expiresAt.timeIntervalSince(now)) <= VendorAnswer.maximumLifetime,
            "a token expires at \(expiresAt.timeIntervalSince1970)")
    }

    /// JWTs: the bytes as a whole token, and as the payload of one.
    static func jwt(_ bytes: [UInt8]) {
        let payload = JWT.base64URLEncode(Data(bytes))
        for token in [text(bytes), "eyJhbGciOiJIUzI1NiJ9.\(payload).c2ln"] {
            _ = JWT.claims(token)
            _ = JWT.expiry(token)
            if case .at(let date) = JWT.expiry(token, near: now) { checkLifetime(date) }
        }
    }

    /// Times: any 8 bytes as a date format to 24 characters; text parses as
    /// `--since` does.
    static func time(_ bytes: [UInt8]) {
        if bytes.count >= 8 {
            let bits = bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let formatted = RFC3339.format(Date(timeIntervalSince1970: Double(bitPattern: bits)))
            require(formatted.utf8.count == 24, "\(formatted) is not 24 characters")
        }
        if let since = try? AuditLog.time(text(bytes), option: "--since", now: now) {
            require(since.utf8.count == 24, "\(since) is not 24 characters")
        }
    }

    /// Showing user input: never a control character, never unbounded.
    static func userText(_ bytes: [UInt8]) {
        let input = text(bytes)
        let quoted = UserText.quoted(input)
        require(!UserText.needsEscaping(quoted), "quoted output needs escaping")
        require(quoted.count <= UserText.shownLimit * 12 + 40, "quoted output is \(quoted.count) characters")
        require(!UserText.needsEscaping(UserText.shown(input)), "shown output needs escaping")
        require(!UserText.needsEscaping(UserText.escaped(input)), "escaped output needs escaping")
        // A parser message and its arguments, split at NUL bytes.
        let parts = bytes.split(separator: 0, omittingEmptySubsequences: false).map(text)
        let message = UserText.parserMessage(parts[0], arguments: Array(parts.dropFirst()))
        for line in message.split(separator: "\n", omittingEmptySubsequences: false) {
            require(!UserText.needsEscaping(line), "a parser message line needs escaping")
        }
        let head = parts[0].components(separatedBy: "\nUsage:")[0]
        if head.contains("nexpected argument") {
            let first = message.components(separatedBy: "\n")[0]
            require(
                first.hasPrefix("Error: ") && first.hasSuffix("not shown in case it is a secret"),
                "an unexpected argument is shown")
        }
    }

    /// A hook's kept output: a secret of capitals and digits never survives
    /// in the part that is kept.
    static func output(_ bytes: [UInt8]) {
        guard let length = bytes.first.map({ Int($0 % 16) + 4 }), bytes.count > length else { return }
        let secret = String(
            decoding: bytes.dropFirst().prefix(length).map { b in b % 36 < 26 ? 65 + b % 36 : 48 + b % 36 - 26 },
            as: UTF8.self)
        let limit = 64
        let captured = Array(bytes.dropFirst(1 + length).prefix(OutputMask.captureLimit(limit, secrets: [secret])))
        let kept = OutputMask.kept(captured, total: captured.count, limit: limit, secrets: [secret])
        let body = kept.components(separatedBy: "\n[… ").first ?? kept
        require(!body.contains(secret), "the secret survives in the kept output")
    }

    /// `target add --template`: any text is checked without a crash, and a
    /// template that passes renders every value as it is.
    static func template(_ bytes: [UInt8]) {
        guard bytes.count <= 4096 else { return }
        let source = text(bytes)
        guard (try? TargetTemplate.check(source)) != nil else { return }
        let document = DeliveryDocument(
            app: "billing", applicationID: "app-1", clientID: "cid-1", clientSecret: Secret("S3CR&T<>"), version: 7,
            rotatedAt: now, fingerprint: "0a1b2c3d")
        let rendered = String(decoding: TargetTemplate.render(source, document), as: UTF8.self)
        // A variable tag for the secret, outside any section and with the usual delimiters.
        if TargetTemplate.names(in: source).contains("client_secret") && !source.contains("{{=")
            && !source.contains("{{#") && !source.contains("{{^")
        {
            require(rendered.contains("S3CR&T<>"), "the secret is not written as it is")
        }
    }
}
