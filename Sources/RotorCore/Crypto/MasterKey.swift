import Crypto
import Foundation

/// The 256-bit master key that seals every secret in one database, and its
/// key id (derived from the key, so a damaged file is caught).
///
/// The key file is one line: `rotor-master-key v1 <key id> <base64 key>`.
public struct MasterKey: Sendable {
    public let id: String
    let key: SymmetricKey
    /// The id as the 8 bytes every box carries.
    let idBytes: [UInt8]

    static let header = "rotor-master-key v1"

    /// A fresh random key.
    public static func generate() -> MasterKey {
        MasterKey(key: SymmetricKey(size: .bits256))
    }

    init(key: SymmetricKey) {
        self.key = key
        self.id = MasterKey.keyID(of: key)
        self.idBytes = Array(Data(hexKeyID: id))
    }

    /// The key id: 16 hex characters of a hash of the key.
    static func keyID(of key: SymmetricKey) -> String {
        let digest = key.withUnsafeBytes { bytes in
            var hasher = SHA256()
            hasher.update(data: Data("rotor key id v1".utf8))
            hasher.update(bufferPointer: bytes)
            return hasher.finalize()
        }
        return Hex.encode(digest.prefix(8))
    }

    /// The key file's contents.
    public func fileBytes() -> [UInt8] {
        let encoded = key.withUnsafeBytes { Data($0).base64EncodedString() }
        return Array("\(MasterKey.header) \(id) \(encoded)\n".utf8)
    }

    /// Parses a key file's contents; nil when they are not a whole, intact key.
    public static func parse(_ bytes: [UInt8]) -> MasterKey? {
        guard let text = String(bytes: bytes, encoding: .utf8) else { return nil }
        let fields = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ")
        guard fields.count == 4, "\(fields[0]) \(fields[1])" == header,
            let raw = Data(base64Encoded: String(fields[3])), raw.count == 32
        else { return nil }
        let key = MasterKey(key: SymmetricKey(data: raw))
        return key.id == fields[2] ? key : nil
    }

    /// The check value stored in the database: proves that this key is the
    /// database's key without storing anything that helps find it.
    public func checkValue(databaseID: String) -> String {
        let checkKey = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: key, info: Data("rotor key check v1".utf8), outputByteCount: 32)
        let mac = HMAC<SHA256>.authenticationCode(for: Data(databaseID.utf8), using: checkKey)
        return Hex.encode(Data(mac))
    }
}

/// Lowercase hexadecimal.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    public static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let input = Array(bytes)
        return String(unsafeUninitializedCapacity: input.count * 2) { buffer in
            for (index, byte) in input.enumerated() {
                buffer[index * 2] = digits[Int(byte >> 4)]
                buffer[index * 2 + 1] = digits[Int(byte & 0x0f)]
            }
            return input.count * 2
        }
    }
}
