/// A secret value: a client secret, a password, a token.
///
/// Every way Swift has of printing a value prints `<redacted>`: `description`,
/// `debugDescription`, string interpolation, `dump` and `Encodable`. Reading
/// the value is the explicit call ``reveal()``, so that each place a secret
/// leaves this type can be found with a search.
public struct Secret: Sendable, Hashable {
    private let value: String

    public init(_ value: String) {
        self.value = value
    }

    /// The plaintext. Call only where the value must leave the process: the
    /// vendor request, the sealed box, a delivery.
    public func reveal() -> String { value }

    /// The plaintext as UTF-8 bytes.
    public func revealBytes() -> [UInt8] { Array(value.utf8) }

    public var isEmpty: Bool { value.isEmpty }
}

extension Secret: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

extension Secret: Encodable {
    /// Encodes `<redacted>`. Serialising the plaintext is always explicit.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode("<redacted>")
    }
}

extension Secret: Decodable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        self.init(try container.decode(String.self))
    }
}
