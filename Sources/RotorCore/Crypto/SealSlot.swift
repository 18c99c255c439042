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

    public enum IdentityField: String, Sendable, CaseIterable {
        case password
        case accessToken = "access_token"
        case refreshToken = "refresh_token"
    }

    public var description: String {
        switch self {
        case .clientSecret(let app, let version): "credentials/\(app)/\(version)/client_secret"
        case .identity(let id, let field): "identities/\(id)/\(field.rawValue)"
        case .rotationAuth(let id): "rotations/\(id)/auth_token"
        case .derivationRoot: "meta/derivation_root"
        case .spill(let id): "spill/\(id)"
        }
    }
}
