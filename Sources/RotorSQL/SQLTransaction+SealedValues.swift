import Foundation
import RotorCore

/// The store's reads and writes of every sealed value, for key rotation.
extension SQLTransaction {
    public func sealedValues() throws -> [SealedValue] {
        var out = try fetch(
            "SELECT app_id, version, client_secret FROM credentials WHERE client_secret IS NOT NULL", []
        ) { row in SealedValue(slot: .clientSecret(appID: row[0], version: row[1]), box: row[2]) }
        let fields = SealSlot.IdentityField.allCases
        let columns = fields.map(\.rawValue).joined(separator: ", ")
        for boxes in try fetch(
            "SELECT id, \(columns) FROM identities", [],
            { row in
                fields.enumerated().compactMap { index, field -> SealedValue? in
                    let box: Data? = row[index + 1]
                    return box.map { SealedValue(slot: .identity(id: row[0], field: field), box: $0) }
                }
            })
        {
            out += boxes
        }
        out += try fetch("SELECT id, auth_token FROM rotations WHERE auth_token IS NOT NULL", []) { row in
            SealedValue(slot: .rotationAuth(rotationID: row[0]), box: row[1])
        }
        out += try fetch("SELECT id, headers FROM targets WHERE headers IS NOT NULL", []) { row in
            SealedValue(slot: .targetHeaders(targetID: row[0]), box: row[1])
        }
        if let root = try meta(.derivationRoot), let box = Data(base64Encoded: root) {
            out.append(SealedValue(slot: .derivationRoot, box: box))
        }
        return out
    }

    public func replaceSealedValue(_ slot: SealSlot, with box: Data) throws {
        switch slot {
        case .clientSecret(let appID, let version):
            try execute(
                sql: "UPDATE credentials SET client_secret = ? WHERE app_id = ? AND version = ?",
                arguments: [box, appID, version])
        case .identity(let id, let field):
            // The column name comes from a closed enum, never from input.
            try execute(sql: "UPDATE identities SET \(field.rawValue) = ? WHERE id = ?", arguments: [box, id])
        case .rotationAuth(let id):
            try execute(sql: "UPDATE rotations SET auth_token = ? WHERE id = ?", arguments: [box, id])
        case .derivationRoot:
            try setMeta(.derivationRoot, box.base64EncodedString())
        case .targetHeaders(let id):
            try setTargetHeaders(id: id, box)
        case .spill:
            throw RotorError(.io, "a spill file's box is not stored in the database")
        }
    }
}
