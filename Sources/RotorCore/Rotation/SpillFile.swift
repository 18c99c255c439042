import Foundation

/// The last resort of `rotation.md`'s invariant 2: when the commit of a new
/// pair fails, the pair is sealed with the master key into a file beside the
/// database, `<database>.spill-<rotation id>`, mode 0600, synced. The next
/// run imports it.
public struct SpillFile: Sendable, Equatable {
    public var rotationID: Int64
    public var appID: Int64
    public var applicationID: String
    public var clientID: String
    public var clientSecret: Secret

    static let header = "rotor-spill v1"

    public init(rotationID: Int64, appID: Int64, applicationID: String, clientID: String, clientSecret: Secret) {
        self.rotationID = rotationID
        self.appID = appID
        self.applicationID = applicationID
        self.clientID = clientID
        self.clientSecret = clientSecret
    }

    public static func path(database: String, rotationID: Int64) -> String {
        "\(database).spill-\(rotationID)"
    }

    /// Every spill file beside `database`.
    public static func paths(database: String) -> [String] {
        let directory = Files.directory(of: database)
        let prefix = URL(fileURLWithPath: database).lastPathComponent + ".spill-"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasPrefix(prefix) && Int64($0.dropFirst(prefix.count)) != nil }.sorted()
            .map { "\(directory)/\($0)" }
    }

    /// Seals and writes the file; never overwrites one.
    public func write(database: String, keyring: Keyring) throws {
        let payload: JSONValue = [
            "rotation_id": .int(rotationID), "app_id": .int(appID), "application_id": .string(applicationID),
            "client_id": .string(clientID), "client_secret": .string(clientSecret.reveal()),
        ]
        let box = try keyring.seal(Secret(payload.canonical), for: .spill(rotationID: rotationID))
        let text = "\(Self.header) \(rotationID) \(box.base64EncodedString())\n"
        do {
            try Files.createExclusive(
                Self.path(database: database, rotationID: rotationID), bytes: Array(text.utf8), mode: 0o600)
        } catch {
            throw RotorError(.io, "cannot write the spill file: \(error)")
        }
    }

    /// Reads and opens a spill file.
    public static func read(_ path: String, keyring: Keyring) throws -> SpillFile {
        let bytes: [UInt8]
        do {
            bytes = try Files.read(path, limit: 65536)
        } catch {
            throw RotorError(.io, "cannot read spill file: \(error)")
        }
        return try parse(bytes, path: path, keyring: keyring)
    }

    /// A spill file's contents, opened; `path` only names it in errors.
    public static func parse(_ bytes: [UInt8], path: String, keyring: Keyring) throws(RotorError) -> SpillFile {
        let fields = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            .split(separator: " ")
        guard fields.count == 4, "\(fields[0]) \(fields[1])" == header, let id = Int64(fields[2]),
            let box = Data(base64Encoded: String(fields[3]))
        else {
            throw RotorError(
                .databaseInvalid, "spill file \(UserText.shown(path)) is damaged; keep it and contact support")
        }
        let plain = try keyring.open(box, for: .spill(rotationID: id))
        guard case .object(let object)? = JSONValue.parse(plain.reveal()),
            case .int(let appID)? = object["app_id"], case .string(let applicationID)? = object["application_id"],
            case .string(let clientID)? = object["client_id"], case .string(let secret)? = object["client_secret"],
            VendorAnswer.isCredential(clientID), VendorAnswer.isCredential(secret)
        else {
            throw RotorError(.databaseInvalid, "spill file \(UserText.shown(path)) does not hold a pair")
        }
        return SpillFile(
            rotationID: id, appID: appID, applicationID: applicationID, clientID: clientID,
            clientSecret: Secret(secret))
    }
}
