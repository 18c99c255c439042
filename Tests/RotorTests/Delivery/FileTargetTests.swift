import Foundation
import RotorCore
import RotorTesting
import Testing

struct FileTargetTests {
    let document = DeliveryDocument(
        app: "billing", applicationID: "app-1", clientID: "cid-2", clientSecret: Secret("s3cr3t\"x"), version: 2,
        rotatedAt: Date(timeIntervalSince1970: 1_800_000_000), fingerprint: "0a1b2c3d")

    @Test func formatsAreByteForByte() {
        #expect(
            String(decoding: document.env, as: UTF8.self)
                == "VITALERA_APPLICATION_ID=app-1\nVITALERA_CLIENT_ID=cid-2\nVITALERA_CLIENT_SECRET=s3cr3t\"x\n")
        #expect(
            String(decoding: document.json, as: UTF8.self)
                == #"{"application_id":"app-1","client_id":"cid-2","client_secret":"s3cr3t\"x","version":2,"rotated_at":"2027-01-15T08:00:00.000Z"}"#
                + "\n")
        #expect(String(decoding: document.raw, as: UTF8.self) == "s3cr3t\"x")
    }

    @Test(arguments: FileTarget.Format.allCases)
    func writtenFilesHoldTheFormatWithTheMode(format: FileTarget.Format) throws {
        let dir = TemporaryDirectory()
        let path = dir.file("creds")
        #expect(try FileWriter.write(document.bytes(format), to: FileTarget(path: path, format: format)) == .written)
        #expect(Array(try dir.read("creds")) == document.bytes(format))
        #expect(Files.mode(path) == 0o600)
        try FileWriter.write(document.bytes(format), to: FileTarget(path: path, format: format, mode: 0o640))
        #expect(Files.mode(path) == 0o640)
        // Nothing else is left in the directory.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["creds"])
    }

    @Test func identicalContentIsLeftAlone() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("creds")
        try FileWriter.write(document.env, to: FileTarget(path: path))
        let before = try #require(Files.status(path))
        #expect(try FileWriter.write(document.env, to: FileTarget(path: path)) == .unchanged)
        let after = try #require(Files.status(path))
        #expect(before.st_ino == after.st_ino)
        #expect(before.st_mtim.tv_nsec == after.st_mtim.tv_nsec)
    }

    @Test func atomicReplaceChangesTheInodeAndInPlaceKeepsIt() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("creds")
        try dir.write("creds", "old content that is longer than the new one, by quite a bit\n")
        let original = try #require(Files.status(path)).st_ino
        try FileWriter.write(document.env, to: FileTarget(path: path, inPlace: true))
        #expect(try #require(Files.status(path)).st_ino == original)
        #expect(Array(try dir.read("creds")) == document.env)
        try FileWriter.write(document.json, to: FileTarget(path: path, format: .json))
        #expect(try #require(Files.status(path)).st_ino != original)
    }

    @Test func aSymlinkIsRefused() throws {
        let dir = TemporaryDirectory()
        try dir.write("real", "x")
        symlink(dir.file("real"), dir.file("link"))
        #expect(throws: RotorError.self) { try FileWriter.write(document.env, to: FileTarget(path: dir.file("link"))) }
        #expect(try dir.read("real") == Data("x".utf8))
    }

    @Test func aMissingDirectoryIsAClearError() {
        do {
            try FileWriter.write(document.env, to: FileTarget(path: "/nonexistent-dir-\(UUID())/creds"))
            Issue.record("wrote into a missing directory")
        } catch {
            #expect(error.message.contains("does not exist"))
            #expect(!error.message.contains("s3cr3t"))
        }
    }

    @Test func leftoverTemporaryFilesAreRemoved() throws {
        let dir = TemporaryDirectory()
        try dir.write(".creds.rotor-123.tmp", "half a secret")
        try FileWriter.write(document.env, to: FileTarget(path: dir.file("creds")))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["creds"])
    }
}
