import Foundation

/// `rotor key rotate`: a new master key, and every secret re-encrypted
/// under it in one transaction.
///
/// Order on disk, so that a crash at any point leaves a database whose
/// secrets all use one key, and a key file for it:
/// 1. the current key is copied to `<key-file>.old`;
/// 2. the new key replaces `<key-file>` (written to a temporary file, synced, renamed);
/// 3. one transaction re-seals every secret and records `key.rotated`;
/// 4. `<key-file>.old` is removed.
/// A crash before 3 commits leaves the database on the old key and
/// `<key-file>.old` beside it; the next command puts the old key back
/// (``Ledger/open(store:key:clock:actor:notices:)``).
public enum KeyRotation {
    public struct Result: Sendable {
        public var oldKeyID: String
        public var newKeyID: String
        public var resealed: Int
    }

    public static func rotate(ledger: Ledger, keyFile: String, progress: ProgressReport? = nil) async throws -> Result {
        let old = ledger.keyring.master
        let new = MasterKey.generate()
        let oldFile = keyFile + ".old"
        let newFile = keyFile + ".new"
        do {
            try Files.createExclusive(oldFile, bytes: old.fileBytes(), mode: 0o600)
            try Files.remove(newFile)
            try Files.writeNew(newFile, bytes: new.fileBytes(), mode: 0o600)
            Failpoint.hit("key-rotate.before-swap")
            try Files.replace(newFile, with: keyFile)
        } catch {
            try? Files.remove(newFile)
            try? Files.remove(oldFile)
            throw RotorError(.io, "cannot write the new key file: \(error)")
        }
        Failpoint.hit("key-rotate.after-swap")
        let count: Int
        do {
            count = try await reseal(ledger: ledger, from: old, to: new, progress: progress)
        } catch {
            // Nothing committed: put the old key back where it was.
            do {
                try Files.replace(oldFile, with: keyFile)
            } catch {
                throw RotorError(
                    .io,
                    "key rotation failed and \(oldFile) could not be moved back over \(keyFile) (\(error)); do it by hand: `mv \(oldFile) \(keyFile)`"
                )
            }
            throw error
        }
        Failpoint.hit("key-rotate.after-commit")
        try? Files.remove(oldFile)
        return Result(oldKeyID: old.id, newKeyID: new.id, resealed: count)
    }

    /// Rotation for a key Rotor only reads (a systemd credential or a key
    /// command): the new key is written to `newKeyFile`, a file that must not
    /// exist yet (mode 0600, synced), before one transaction re-seals every
    /// secret. A crash before the commit leaves the database on the old key,
    /// which the source still gives; after it, on the new key in `newKeyFile`,
    /// which the operator then moves into the secret store.
    public static func rotate(ledger: Ledger, newKeyFile: String, progress: ProgressReport? = nil) async throws
        -> Result
    {
        let old = ledger.keyring.master
        let new = MasterKey.generate()
        try KeyFile.create(new, at: newKeyFile)
        Failpoint.hit("key-rotate.after-swap")
        let count: Int
        do {
            count = try await reseal(ledger: ledger, from: old, to: new, progress: progress)
        } catch {
            try? Files.remove(newKeyFile)
            throw error
        }
        Failpoint.hit("key-rotate.after-commit")
        return Result(oldKeyID: old.id, newKeyID: new.id, resealed: count)
    }

    /// One transaction: every sealed value opened with `old` and sealed with
    /// `new`, the key facts replaced and `key.rotated` recorded.
    static func reseal(ledger: Ledger, from old: MasterKey, to new: MasterKey, progress: ProgressReport? = nil)
        async throws -> Int
    {
        try await ledger.commit { tx in
            let values = try tx.store.sealedValues()
            for (index, value) in values.enumerated() {
                if index % 256 == 0 { progress?(index, values.count) }
                let secret = try Keyring.open(value.box, for: value.slot, key: old, databaseID: tx.keyring.databaseID)
                let box = Keyring.seal(secret, for: value.slot, key: new, databaseID: tx.keyring.databaseID)
                try tx.store.replaceSealedValue(value.slot, with: box)
            }
            try tx.store.setMeta(.keyID, new.id)
            try tx.store.setMeta(.keyCheck, new.checkValue(databaseID: tx.keyring.databaseID))
            try tx.record(
                AuditDraft(
                    .keyRotated,
                    detail: [
                        "old_key_id": .string(old.id), "new_key_id": .string(new.id),
                        "resealed": .int(Int64(values.count)),
                    ]))
            Failpoint.hit("key-rotate.before-commit")
            return values.count
        }
    }
}
