import Foundation

/// Where a PostgreSQL database is (postgres.md, "Connecting"):
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME[?sslmode=disable|require|verify-full][&sslrootcert=PATH]`
/// (also `postgresql://`). `verify-full` (the default) checks the server's
/// certificate and name against the system's trusted roots, or against the
/// PEM file `sslrootcert` names (`PGSSLROOTCERT` too, as in libpq). The password comes from the URL, `PGPASSWORD`,
/// or the password file (`PGPASSFILE`, else `~/.pgpass`) as libpq reads it.
/// It never appears in ``description``, so a message or a log line that
/// names the database cannot carry it.
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    public enum SSLMode: String, Sendable, CaseIterable {
        case disable, require
        case verifyFull = "verify-full"
    }

    public var user: String
    public var host: String
    public var port: Int
    public var database: String
    public var sslMode: SSLMode
    /// The PEM file of the certificate authorities `verify-full` trusts; nil: the system's.
    public var rootCertificateFile: String?
    /// nil when no source had one (a server that trusts the client needs none).
    public var password: Secret?

    /// Whether `text` names a PostgreSQL database rather than a SQLite file.
    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// Parses `url`; a password not in it is looked up in `environment`
    /// (`PGPASSWORD`, `PGPASSFILE`, `HOME`).
    public init(url: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(RotorError)
    {
        let shown = Self.redacted(url)
        guard Self.isURL(url), let components = URLComponents(string: url), let host = components.host,
            !host.isEmpty
        else {
            throw RotorError(
                .invalidInput,
                "--db \(UserText.shown(shown)) is not a PostgreSQL URL like postgres://rotor@db.internal:5432/rotor?sslmode=verify-full"
            )
        }
        guard let user = components.user, !user.isEmpty else {
            throw RotorError(.invalidInput, "--db \(UserText.shown(shown)) names no user: postgres://USER@HOST/DBNAME")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else {
            throw RotorError(
                .invalidInput, "--db \(UserText.shown(shown)) names no database: postgres://USER@HOST/DBNAME")
        }
        let port = components.port ?? 5432
        guard (1...65535).contains(port) else {
            throw RotorError(.invalidInput, "--db \(UserText.shown(shown)) has a port out of range")
        }
        var sslMode = SSLMode.verifyFull
        var rootCertificateFile = environment["PGSSLROOTCERT"].flatMap { $0.isEmpty ? nil : $0 }
        for item in components.queryItems ?? [] {
            if item.name == "sslrootcert", let value = item.value, !value.isEmpty {
                rootCertificateFile = value
                continue
            }
            guard item.name == "sslmode" else {
                throw RotorError(
                    .invalidInput,
                    "--db takes two settings, sslmode=disable|require|verify-full and sslrootcert=PATH, not \(UserText.quoted(item.name))"
                )
            }
            guard let value = item.value.flatMap(SSLMode.init(rawValue:)) else {
                throw RotorError(
                    .invalidInput,
                    "sslmode takes disable, require or verify-full, not \(UserText.quoted(item.value ?? ""))")
            }
            sslMode = value
        }
        if sslMode == .disable, !Validate.isLoopback(host), !host.hasPrefix("/") {
            throw RotorError(
                .invalidInput,
                "sslmode=disable sends the password and every sealed secret in the clear to \(host); use require or verify-full, or a loopback host"
            )
        }
        self.user = user
        self.host = host
        self.port = port
        self.database = database
        self.sslMode = sslMode
        self.rootCertificateFile = rootCertificateFile
        if let password = components.password {
            self.password = Secret(password)
        } else if let password = environment["PGPASSWORD"], !password.isEmpty {
            self.password = Secret(password)
        } else {
            let file = environment["PGPASSFILE"] ?? environment["HOME"].map { "\($0)/.pgpass" }
            self.password = file.flatMap {
                Self.passwordFile($0, host: host, port: port, database: database, user: user)
            }
        }
    }

    /// The URL without its password: what messages and logs show.
    public var description: String {
        var settings = sslMode == .verifyFull ? [] : ["sslmode=\(sslMode.rawValue)"]
        if let rootCertificateFile { settings.append("sslrootcert=\(rootCertificateFile)") }
        let query = settings.isEmpty ? "" : "?" + settings.joined(separator: "&")
        return "postgres://\(user)@\(host):\(port)/\(database)\(query)"
    }

    /// A file name for this database, the stem of its spill files in the
    /// spill directory: `rotor-<database>@<host>-<port>`, anything but
    /// letters, digits, `.`, `-` and `_` made `_`.
    public var spillName: String {
        let name = "rotor-\(database)@\(host)-\(port)"
        return String(
            name.map { $0.isLetter && $0.isASCII || $0.isNumber && $0.isASCII || "@.-_".contains($0) ? $0 : "_" })
    }

    /// `url` with any password replaced by `***`, for a URL that did not parse.
    public static func redacted(_ url: String) -> String {
        guard let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].lastIndex(of: "@") else {
            return url
        }
        let credentials = url[scheme.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return url }
        return String(url[..<colon]) + ":***" + String(url[at...])
    }

    /// The password of the first line of a libpq password file that matches
    /// (`host:port:database:user:password`, `*` matching anything, `\:` and
    /// `\\` escaped). A file that group or others may read is ignored, as
    /// libpq ignores it.
    static func passwordFile(_ path: String, host: String, port: Int, database: String, user: String) -> Secret? {
        guard let info = Files.status(path), info.st_mode & S_IFMT == S_IFREG, info.st_mode & 0o077 == 0,
            let bytes = try? Files.read(path, limit: 1 << 20)
        else { return nil }
        for line in String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline) {
            if line.hasPrefix("#") { continue }
            let fields = split(line)
            guard fields.count == 5 else { continue }
            let wanted = [host, String(port), database, user]
            if zip(fields.prefix(4), wanted).allSatisfy({ $0 == "*" || $0 == $1 }) {
                return Secret(fields[4])
            }
        }
        return nil
    }

    /// A password-file line's fields, with `\:` and `\\` unescaped.
    static func split(_ line: Substring) -> [String] {
        var fields: [String] = [""]
        var escaped = false
        for character in line {
            if escaped {
                fields[fields.count - 1].append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == ":", fields.count < 5 {
                fields.append("")
            } else {
                fields[fields.count - 1].append(character)
            }
        }
        return fields
    }
}
