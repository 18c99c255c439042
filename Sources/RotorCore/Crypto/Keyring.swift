import Crypto
import Foundation

/// The keys of one open database: the master key that seals secrets
/// (AES-256-GCM) and the keys derived from the database's sealed random root
/// (fingerprints, the audit head MAC).
///
/// The derived keys come from a random root sealed under the master key
/// rather than from the master key itself, so that fingerprints and the audit
/// checkpoint stay the same across `rotor key rotate`.
public struct Keyring: Sendable {
    public let master: MasterKey
    public let databaseID: String
    private let fingerprintKey: SymmetricKey
    private let auditKey: SymmetricKey

    /// A box: version byte, 8-byte key id, 12-byte nonce, ciphertext, 16-byte tag.
    static let boxVersion: UInt8 = 1

    public init(master: MasterKey, databaseID: String, root: Secret) {
        self.master = master
        self.databaseID = databaseID
        let rootKey = SymmetricKey(data: Data(root.revealBytes()))
        let salt = Data(databaseID.utf8)
        fingerprintKey = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: rootKey, salt: salt, info: Data("rotor fingerprint v1".utf8), outputByteCount: 32)
        auditKey = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: rootKey, salt: salt, info: Data("rotor audit head v1".utf8), outputByteCount: 32)
    }

    /// A new random derivation root (base64 text, sealed before it is stored).
    public static func newRoot() -> Secret {
        Secret(SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() })
    }

    /// Seals `secret` for `slot` with the master key.
    public func seal(_ secret: Secret, for slot: SealSlot) throws(RotorError) -> Data {
        Keyring.seal(secret, for: slot, key: master, databaseID: databaseID)
    }

    /// Opens a box sealed for `slot`. A box from another row, another
    /// database or another key fails here; it never yields garbage.
    public func open(_ box: Data, for slot: SealSlot) throws(RotorError) -> Secret {
        try Keyring.open(box, for: slot, key: master, databaseID: databaseID)
    }

    static func seal(_ secret: Secret, for slot: SealSlot, key: MasterKey, databaseID: String) -> Data {
        let aad = associatedData(slot: slot, keyID: key.id, databaseID: databaseID)
        // AES.GCM.seal fails only for an invalid key or nonce size, which cannot happen here.
        let box = try! AES.GCM.seal(Data(secret.revealBytes()), using: key.key, authenticating: aad)
        var out = Data([boxVersion])
        out.append(contentsOf: key.idBytes)
        out.append(box.combined!)
        return out
    }

    static func open(_ box: Data, for slot: SealSlot, key: MasterKey, databaseID: String) throws(RotorError) -> Secret {
        let bytes = [UInt8](box)
        guard bytes.count >= 1 + 8 + 12 + 16, bytes[0] == boxVersion else {
            throw RotorError(.decryptionFailed, "the sealed value at \(slot) is damaged")
        }
        guard bytes[1..<9].elementsEqual(key.idBytes) else {
            throw RotorError(
                .decryptionFailed,
                "the sealed value at \(slot) was sealed with key \(Hex.encode(bytes[1..<9])), not with this key file's key \(key.id)"
            )
        }
        let aad = associatedData(slot: slot, keyID: key.id, databaseID: databaseID)
        do {
            let sealed = try AES.GCM.SealedBox(combined: Data(bytes[9...]))
            let plain = try AES.GCM.open(sealed, using: key.key, authenticating: aad)
            guard let text = String(data: plain, encoding: .utf8) else {
                throw RotorError(.decryptionFailed, "the sealed value at \(slot) is not text")
            }
            return Secret(text)
        } catch let error as RotorError {
            throw error
        } catch {
            throw RotorError(
                .decryptionFailed, "the sealed value at \(slot) does not open: it was altered or belongs to another row"
            )
        }
    }

    /// `rotor-seal-v1 NUL database-id NUL key-id NUL slot`, as UTF-8.
    static func associatedData(slot: SealSlot, keyID: String, databaseID: String) -> Data {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(96)
        bytes += "rotor-seal-v1".utf8
        bytes.append(0)
        bytes += databaseID.utf8
        bytes.append(0)
        bytes += keyID.utf8
        bytes.append(0)
        slot.appendPath(to: &bytes)
        return Data(bytes)
    }

    /// A short keyed fingerprint of a secret, so versions can be told apart
    /// in events and listings without revealing anything about the secret.
    public func fingerprint(_ secret: Secret) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(secret.revealBytes()), using: fingerprintKey)
        return Hex.encode(Data(mac).prefix(8))
    }

    /// The MAC of the audit chain's head and base, so that a truncated tail
    /// or a moved base is caught.
    public func auditHeadMAC(_ head: AuditHead) -> String {
        let text = "\(head.lastID)\u{0}\(head.lastHash)\u{0}\(head.baseID)\u{0}\(head.baseHash)"
        return Hex.encode(Data(HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: auditKey)))
    }
}

extension Data {
    init(hexKeyID hex: String) {
        var bytes: [UInt8] = []
        var iterator = hex.utf8.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            bytes.append(Data.nibble(high) << 4 | Data.nibble(low))
        }
        self.init(bytes)
    }

    private static func nibble(_ c: UInt8) -> UInt8 {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        default: 0
        }
    }
}
