/// Where a sealed box lives. The slot goes into the box's associated data, so
/// a box copied to another row or column does not open there.
public enum SealSlot: Hashable, Sendable, CustomStringConvertible {
    /// The client secret of one credential version of an app.
    case clientSecret(appID: Int64, version: Int)
    /// A field of an identity: `password`, `access_token`, `refresh_token`.
    case identity(id: Int64, field: IdentityField)
    /// The token that authorised a rotation, kept for its recovery.
    case rotationAuth(rotationID: Int64)
    /// The random root from which fingerprint and audit-head keys derive.
    case derivationRoot
    /// A new pair that could not be committed, sealed into a spill file.
    case spill(rotationID: Int64)
    /// The extra request headers of a webhook target.
    case targetHeaders(targetID: Int64)

    public enum IdentityField: String, Sendable, CaseIterable {
        case password
        case accessToken = "access_token"
        case refreshToken = "refresh_token"
    }

    /// `credentials/3/2/client_secret`, `identities/1/password`, …: the
    /// slot's part of a box's associated data.
    public var description: String {
        var bytes: [UInt8] = []
        appendPath(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends ``description``'s UTF-8 to `bytes` (sealing builds it for every box).
    func appendPath(to bytes: inout [UInt8]) {
        switch self {
        case .clientSecret(let app, let version):
            bytes += "credentials/".utf8
            bytes += String(app).utf8
            bytes.append(UInt8(ascii: "/"))
            bytes += String(version).utf8
            bytes += "/client_secret".utf8
        case .identity(let id, let field):
            bytes += "identities/".utf8
            bytes += String(id).utf8
            bytes.append(UInt8(ascii: "/"))
            bytes += field.rawValue.utf8
        case .rotationAuth(let id):
            bytes += "rotations/".utf8
            bytes += String(id).utf8
            bytes += "/auth_token".utf8
        case .derivationRoot:
            bytes += "meta/derivation_root".utf8
        case .spill(let id):
            bytes += "spill/".utf8
            bytes += String(id).utf8
        case .targetHeaders(let id):
            bytes += "targets/".utf8
            bytes += String(id).utf8
            bytes += "/headers".utf8
        }
    }
}
