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
}
