import Foundation

/// What a target receives, in the formats of `cli.md`.
public struct DeliveryDocument: Sendable {
    /// The app's name in Rotor.
    public var app: String
    public var applicationID: String
    public var clientID: String
    public var clientSecret: Secret
    public var version: Int
    public var rotatedAt: Date
    /// The pair's keyed fingerprint (never the secret).
    public var fingerprint: String

    public init(
        app: String, applicationID: String, clientID: String, clientSecret: Secret, version: Int, rotatedAt: Date,
        fingerprint: String
    ) {
        self.app = app
        self.applicationID = applicationID
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.version = version
        self.rotatedAt = rotatedAt
        self.fingerprint = fingerprint
    }

    /// `{"application_id":…,"client_id":…,"client_secret":…,"version":N,"rotated_at":"RFC 3339"}`
    /// and a newline; also the stdin of exec hooks.
    public var json: [UInt8] {
        let body = jsonFields.map { "\(JSONValue.string($0.0).canonical):\($0.1.canonical)" }.joined(separator: ",")
        return Array("{\(body)}\n".utf8)
    }

    /// The values a template sees, by variable.
    var templateValues: [String: String] {
        [
            "app": app, "application_id": applicationID, "client_id": clientID, "client_secret": clientSecret.reveal(),
            "version": String(version), "rotated_at": RFC3339.format(rotatedAt), "fingerprint": fingerprint,
        ]
    }

    /// The members of the `json` document, in order.
    var jsonFields: [(String, JSONValue)] {
        [
            ("application_id", .string(applicationID)), ("client_id", .string(clientID)),
            ("client_secret", .string(clientSecret.reveal())), ("version", .int(Int64(version))),
            ("rotated_at", .string(RFC3339.format(rotatedAt))),
        ]
    }

    /// One `KEY=value` per line, values unquoted.
    public var env: [UInt8] {
        Array(
            """
            VITALERA_APPLICATION_ID=\(applicationID)
            VITALERA_CLIENT_ID=\(clientID)
            VITALERA_CLIENT_SECRET=\(clientSecret.reveal())

            """.utf8)
    }

    /// The client secret alone, no trailing newline.
    public var raw: [UInt8] { clientSecret.revealBytes() }

    public func bytes(_ format: FileTarget.Format) -> [UInt8] {
        switch format {
        case .env: env
        case .json: json
        case .raw: raw
        }
    }

    /// What `file` holds: its template rendered, or its format.
    public func bytes(for file: FileTarget) -> [UInt8] {
        file.template.map { TargetTemplate.render($0, self) } ?? bytes(file.format)
    }
}
