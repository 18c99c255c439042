import Crypto
import Foundation
import RotorCore
import Testing

struct KeyringTests {
    func keyring(_ key: MasterKey = .generate(), database: String = "db-1") -> Keyring {
        Keyring(master: key, databaseID: database, root: Secret("root-\(database)"))
    }

    @Test func sealThenOpenReturnsTheSecret() throws {
        let ring = keyring()
        let box = try ring.seal(Secret("hello"), for: .clientSecret(appID: 1, version: 1))
        #expect(try ring.open(box, for: .clientSecret(appID: 1, version: 1)).reveal() == "hello")
        #expect(!String(decoding: box, as: UTF8.self).contains("hello"))
    }

    @Test(arguments: [
        SealSlot.clientSecret(appID: 2, version: 1), .clientSecret(appID: 1, version: 2),
        .rotationAuth(rotationID: 1), .identity(id: 1, field: .password), .derivationRoot,
    ])
    func aBoxMovedToAnotherSlotDoesNotOpen(slot: SealSlot) throws {
        let ring = keyring()
        let box = try ring.seal(Secret("hello"), for: .clientSecret(appID: 1, version: 1))
        #expect(throws: RotorError.self) { try ring.open(box, for: slot) }
    }

    @Test func anotherKeyOrDatabaseDoesNotOpen() throws {
        let key = MasterKey.generate()
        let box = try keyring(key).seal(Secret("hello"), for: .derivationRoot)
        #expect(throws: RotorError.self) { try keyring().open(box, for: .derivationRoot) }
        #expect(throws: RotorError.self) { try keyring(key, database: "db-2").open(box, for: .derivationRoot) }
    }

    @Test func everyFlippedByteIsCaught() throws {
        let ring = keyring()
        let box = try ring.seal(Secret("hello"), for: .derivationRoot)
        for index in box.indices {
            var damaged = box
            damaged[index] ^= 0x01
            #expect(throws: RotorError.self) { try ring.open(damaged, for: .derivationRoot) }
        }
        #expect(throws: RotorError.self) { try ring.open(box.prefix(20), for: .derivationRoot) }
    }

    @Test func fingerprintsAreKeyedAndShort() {
        let ring = keyring()
        let a = ring.fingerprint(Secret("a"))
        #expect(a.count == 16)
        #expect(a == ring.fingerprint(Secret("a")))
        #expect(a != ring.fingerprint(Secret("b")))
        #expect(a != keyring(database: "other").fingerprint(Secret("a")))
    }

    /// The box format, pinned independently of the code that seals: version
    /// byte 1, the key id's 8 bytes, then AES-256-GCM (nonce, ciphertext, tag)
    /// over `rotor-seal-v1 NUL database NUL key-id NUL slot`. Boxes written by
    /// any earlier Rotor must keep opening.
    @Test(arguments: [
        (SealSlot.clientSecret(appID: 12, version: 3), "credentials/12/3/client_secret"),
        (.identity(id: 4, field: .refreshToken), "identities/4/refresh_token"),
        (.rotationAuth(rotationID: 907), "rotations/907/auth_token"),
        (.derivationRoot, "meta/derivation_root"),
        (.spill(rotationID: 5), "spill/5"),
    ])
    func aBoxInTheDocumentedFormatOpens(slot: SealSlot, path: String) throws {
        #expect(slot.description == path)
        let key = MasterKey.generate()
        let fields = String(decoding: key.fileBytes(), as: UTF8.self).split(separator: " ")
        let encoded = try #require(fields.last).trimmingCharacters(in: .newlines)
        let raw = try #require(Data(base64Encoded: encoded))
        let aad = Data("rotor-seal-v1\u{0}db-1\u{0}\(key.id)\u{0}\(path)".utf8)
        let sealed = try AES.GCM.seal(Data("pinned".utf8), using: SymmetricKey(data: raw), authenticating: aad)
        var box = Data([1])
        var hex = key.id.utf8.makeIterator()
        while let high = hex.next(), let low = hex.next() {
            box.append(UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) ?? 0)
        }
        box.append(try #require(sealed.combined))
        #expect(try keyring(key).open(box, for: slot).reveal() == "pinned")
        // And what this build seals opens under the same rule, for this slot only.
        let mine = try keyring(key).seal(Secret("mine"), for: slot)
        #expect(mine.prefix(9) == box.prefix(9))
        #expect(throws: RotorError.self) { try keyring(key).open(mine, for: .spill(rotationID: 999_999)) }
    }
}
