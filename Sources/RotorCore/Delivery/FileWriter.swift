import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes a file target so that it is only ever the whole old content or
/// the whole new content, never readable by others than its mode allows.
public enum FileWriter {
    public enum Outcome: Sendable, Equatable {
        case written
        /// The file already held exactly these bytes (and mode).
        case unchanged
    }

    /// Writes `bytes` to `target.path`:
    /// 1. a temporary file in the same directory, created with O_EXCL and the
    ///    final mode before any byte is written;
    /// 2. written and fsynced;
    /// 3. renamed over the target;
    /// 4. the directory fsynced.
    /// With `inPlace` the existing file is rewritten and keeps its inode.
    @discardableResult
    public static func write(_ bytes: [UInt8], to target: FileTarget) throws(RotorError) -> Outcome {
        let path = target.path
        let directory = Files.directory(of: path)
        var info = stat()
        guard stat(directory, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw RotorError(
                .io, "the directory \(UserText.shown(directory)) of target \(UserText.shown(path)) does not exist")
        }
        let exists = lstat(path, &info) == 0
        if exists {
            if info.st_mode & S_IFMT == S_IFLNK {
                throw RotorError(
                    .io,
                    "target \(UserText.shown(path)) is a symlink; Rotor does not follow it (point the target at the real file)"
                )
            }
            guard info.st_mode & S_IFMT == S_IFREG else {
                throw RotorError(.io, "target \(UserText.shown(path)) exists and is not a regular file")
            }
        }
        let ownership = try resolveOwnership(target)
        removeLeftovers(of: path)
        if exists, let current = try? Files.read(path, limit: 1 << 20), current == bytes,
            info.st_mode & 0o7777 == mode_t(target.mode),
            ownership.uid.map({ $0 == info.st_uid }) ?? true, ownership.gid.map({ $0 == info.st_gid }) ?? true
        {
            return .unchanged
        }
        if target.inPlace && exists {
            try rewriteInPlace(bytes, path: path, mode: mode_t(target.mode), ownership: ownership)
        } else {
            try replaceAtomically(bytes, path: path, mode: mode_t(target.mode), ownership: ownership)
        }
        return .written
    }

    /// Temporary files are `.<name>.rotor-<random>.tmp` beside the target.
    static func temporaryPrefix(of path: String) -> String {
        ".\(URL(fileURLWithPath: path).lastPathComponent).rotor-"
    }

    /// Removes temporary files a crash left beside the target.
    static func removeLeftovers(of path: String) {
        let directory = Files.directory(of: path)
        let prefix = temporaryPrefix(of: path)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        where name.hasPrefix(prefix) && name.hasSuffix(".tmp") {
            unlink("\(directory)/\(name)")
        }
    }

    static func replaceAtomically(_ bytes: [UInt8], path: String, mode: mode_t, ownership: Ownership) throws(RotorError)
    {
        let directory = Files.directory(of: path)
        let temporary = "\(directory)/\(temporaryPrefix(of: path))\(UInt32.random(in: 0...UInt32.max)).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw RotorError(
                .io, "cannot create a file in \(UserText.shown(directory)): \(String(cString: strerror(errno)))")
        }
        do throws(RotorError) {
            try finish(fd, bytes: bytes, mode: mode, ownership: ownership, path: path)
            close(fd)
            Failpoint.hit("deliver.before-rename")
            guard rename(temporary, path) == 0 else {
                throw RotorError(.io, "cannot replace \(UserText.shown(path)): \(String(cString: strerror(errno)))")
            }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        do {
            try Files.syncDirectory(of: path)
        } catch {
            throw RotorError(.io, "\(error)")
        }
    }

    static func rewriteInPlace(_ bytes: [UInt8], path: String, mode: mode_t, ownership: Ownership) throws(RotorError) {
        let fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            throw RotorError(.io, "cannot open \(UserText.shown(path)): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        guard ftruncate(fd, 0) == 0 else {
            throw RotorError(.io, "cannot truncate \(UserText.shown(path)): \(String(cString: strerror(errno)))")
        }
        try finish(fd, bytes: bytes, mode: mode, ownership: ownership, path: path)
    }

    /// Sets mode and owner, writes every byte and fsyncs.
    static func finish(_ fd: Int32, bytes: [UInt8], mode: mode_t, ownership: Ownership, path: String) throws(RotorError)
    {
        guard fchmod(fd, mode) == 0 else {
            throw RotorError(.io, "cannot set the mode of \(UserText.shown(path)): \(String(cString: strerror(errno)))")
        }
        if ownership.uid != nil || ownership.gid != nil {
            guard fchown(fd, ownership.uid ?? uid_t.max, ownership.gid ?? gid_t.max) == 0 else {
                throw RotorError(
                    .io, "cannot set the owner of \(UserText.shown(path)): \(String(cString: strerror(errno)))")
            }
        }
        let code = Files.writeAll(fd, bytes)
        guard code == 0 else {
            throw RotorError(.io, "cannot write \(UserText.shown(path)): \(String(cString: strerror(code)))")
        }
        guard fsync(fd) == 0 else {
            throw RotorError(.io, "cannot sync \(UserText.shown(path)): \(String(cString: strerror(errno)))")
        }
    }

    struct Ownership {
        var uid: uid_t?
        var gid: gid_t?
    }

    /// The uid and gid named by the target; setting them needs root.
    static func resolveOwnership(_ target: FileTarget) throws(RotorError) -> Ownership {
        var ownership = Ownership()
        if let owner = target.owner {
            guard let entry = getpwnam(owner) else {
                throw RotorError(.io, "no user named \(UserText.shown(owner)) for \(UserText.shown(target.path))")
            }
            ownership.uid = entry.pointee.pw_uid
        }
        if let group = target.group {
            guard let entry = getgrnam(group) else {
                throw RotorError(.io, "no group named \(UserText.shown(group)) for \(UserText.shown(target.path))")
            }
            ownership.gid = entry.pointee.gr_gid
        }
        if (ownership.uid != nil || ownership.gid != nil) && geteuid() != 0 {
            throw RotorError(
                .io, "--owner and --group of \(UserText.shown(target.path)) can be applied only when Rotor runs as root"
            )
        }
        return ownership
    }
}
