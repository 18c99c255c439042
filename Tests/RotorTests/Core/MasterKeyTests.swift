import Foundation
import RotorCore
import Testing

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
