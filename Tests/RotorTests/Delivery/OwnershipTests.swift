import Foundation
import RotorCore
import RotorTesting
import Testing

struct OwnershipTests {
    @Test func ownerAndGroupAreAppliedAsRoot() throws {
        let dir = TemporaryDirectory()
        let target = FileTarget(path: dir.file("creds"), owner: "nobody", group: "nogroup")
        let document = DeliveryDocument(
            app: "a", applicationID: "a", clientID: "c", clientSecret: Secret("s"), version: 1, rotatedAt: Date(),
            fingerprint: "f")
        guard geteuid() == 0 else {
            #expect(throws: RotorError.self) { try FileWriter.write(document.env, to: target) }
            return
        }
        try FileWriter.write(document.env, to: target)
        let info = try #require(Files.status(dir.file("creds")))
        let nobody = try #require(getpwnam("nobody")).pointee.pw_uid
        let nogroup = try #require(getgrnam("nogroup")).pointee.gr_gid
        #expect(info.st_uid == nobody)
        #expect(info.st_gid == nogroup)
        #expect(try FileWriter.write(document.env, to: target) == .unchanged)
    }
}
