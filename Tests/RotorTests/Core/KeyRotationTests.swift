import Foundation
import GRDB
import RotorCore
import RotorSQLite
import RotorTesting
import Testing

struct KeyRotationTests {
    @Test func everySecretIsResealedAndFingerprintsStay() async throws {
        let db = try await TestDatabase()
        for index in 0..<5 { try await db.addApp("app\(index)", secret: "secret-\(index)") }
        let before = try await db.registry.list().map(\.credential.fingerprint)
        let result = try await KeyRotation.rotate(ledger: db.ledger, keyFile: db.keyFile)
        #expect(result.resealed == 6)  // five secrets and the derivation root
        #expect(!FileManager.default.fileExists(atPath: db.keyFile + ".old"))

        var notices: [String] = []
        let reopened = try await Ledger.open(
            store: db.store, key: .file(db.keyFile), clock: db.clock, actor: "t", notices: &notices)
        let registry = AppRegistry(ledger: reopened, checker: nil)
        #expect(try await registry.list().map(\.credential.fingerprint) == before)
        for index in 0..<5 {
            #expect(try await registry.reveal("app\(index)").clientSecret.reveal() == "secret-\(index)")
        }
        #expect(try await AuditLog(ledger: reopened).verify().isIntact)
        // The process still holding the old key may no longer write.
        await #expect(throws: RotorError.self) { try await db.addApp("late") }
    }
}
