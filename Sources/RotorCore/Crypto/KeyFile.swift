#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The master key file on disk: loading with the checks ssh applies to a
/// private key, and creation that never overwrites.
public enum KeyFile {
    /// Reads and checks the key file at `path`.
    public static func load(_ path: String) throws(RotorError) -> MasterKey {
        guard let info = Files.status(path) else {
            throw RotorError(
                .keyFileMissing,
                "no key file at \(UserText.shown(path)): pass the right --key-file (or ROTOR_KEY_FILE), or run `rotor init` for a new database"
            )
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw RotorError(.keyFileInvalid, "key file \(UserText.shown(path)) is not a regular file")
        }
        let loose = info.st_mode & 0o077
        guard loose == 0 else {
            let mode = String(info.st_mode & 0o777, radix: 8)
            throw RotorError(
                .keyFilePermissions,
                "key file \(UserText.shown(path)) is readable by others (mode \(mode)); run `chmod 600 \(UserText.shown(path))` and check who has read it"
            )
        }
        let bytes: [UInt8]
        do {
            bytes = try Files.read(path, limit: 4096)
        } catch {
            throw RotorError(.keyFileInvalid, "cannot read key file: \(error)")
        }
        guard let key = MasterKey.parse(bytes) else {
            throw RotorError(
                .keyFileInvalid,
                "key file \(UserText.shown(path)) is not a valid Rotor key (empty, truncated or damaged); restore it from your backup"
            )
        }
        return key
    }

    /// Writes `key` to a new file at `path`, mode 0600. Fails if a file is
    /// already there: a key file is never overwritten.
    public static func create(_ key: MasterKey, at path: String) throws(RotorError) {
        do {
            try Files.createExclusive(path, bytes: key.fileBytes(), mode: 0o600)
        } catch {
            if error.errno == EEXIST {
                throw RotorError(
                    .alreadyExists, "a key file already exists at \(UserText.shown(path)); it is never overwritten")
            }
            throw RotorError(.io, "cannot write key file: \(error)")
        }
    }
}
