import Foundation
import RotorCore
import Testing

struct SecretTests {
    let canary = "CANARY-7f3a9c-secret"

    @Test func everyPrintingPathIsRedacted() throws {
        let secret = Secret(canary)
        var dumped = ""
        dump(secret, to: &dumped)
        let encoded = String(decoding: try JSONEncoder().encode(["s": secret]), as: UTF8.self)
        for text in [
            secret.description, secret.debugDescription, "\(secret)", String(reflecting: secret), dumped, encoded,
        ] {
            #expect(!text.contains(canary), "leaked in: \(text)")
            #expect(text.contains("redacted"))
        }
        #expect(secret.reveal() == canary)
    }

    @Test func decodingReadsTheValue() throws {
        let decoded = try JSONDecoder().decode([String: Secret].self, from: Data("{\"s\":\"\(canary)\"}".utf8))
        #expect(decoded["s"]?.reveal() == canary)
    }
}

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
}

struct MasterKeyTests {
    @Test func aKeyFileRoundTrips() {
        let key = MasterKey.generate()
        let parsed = MasterKey.parse(key.fileBytes())
        #expect(parsed?.id == key.id)
        #expect(parsed?.checkValue(databaseID: "x") == key.checkValue(databaseID: "x"))
    }

    @Test func damagedKeyFilesAreRejected() {
        let good = MasterKey.generate().fileBytes()
        let other = MasterKey.generate().fileBytes()
        #expect(MasterKey.parse([]) == nil)
        #expect(MasterKey.parse(Array(good.prefix(good.count / 2))) == nil)
        #expect(MasterKey.parse(Array("garbage\n".utf8)) == nil)
        // Another key's id with this key's bytes: the id no longer matches.
        let mixed = String(decoding: good, as: UTF8.self).split(separator: " ")
        let otherID = String(decoding: other, as: UTF8.self).split(separator: " ")[2]
        #expect(MasterKey.parse(Array("\(mixed[0]) \(mixed[1]) \(otherID) \(mixed[3])".utf8)) == nil)
    }
}
