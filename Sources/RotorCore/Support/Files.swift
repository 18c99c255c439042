import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Small POSIX file helpers with the guarantees Rotor's files need: exclusive
/// creation with the final mode before any byte is written, fsync of file and
/// directory, and no silent overwrite where the caller forbids it.
public enum Files {
    /// The mode bits and type of the file at `path`, following symlinks.
    public static func status(_ path: String) -> stat? {
        var info = stat()
        return stat(path, &info) == 0 ? info : nil
    }

    /// The size of the file at `path` in bytes; nil when there is none.
    public static func size(_ path: String) -> Int? {
        status(path).map { Int($0.st_size) }
    }

    public static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// Permission bits (e.g. 0o600) of the file at `path`.
    public static func mode(_ path: String) -> mode_t? {
        status(path).map { $0.st_mode & 0o7777 }
    }

    public static func directory(of path: String) -> String {
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent().path
    }

    /// Reads a whole file, at most `limit` bytes; more is an error.
    public static func read(_ path: String, limit: Int) throws(FileError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError(errno: errno, operation: "open", path: path) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw FileError(errno: errno, operation: "read", path: path)
            }
            if count == 0 { break }
            bytes.append(contentsOf: buffer[0..<count])
            if bytes.count > limit { throw FileError(errno: EFBIG, operation: "read", path: path) }
        }
        return bytes
    }

    /// Writes `bytes` to a new file at `path` with `mode`, failing if anything
    /// already exists there. The file is complete and synced before it
    /// becomes visible under its name; the directory is synced after.
    public static func createExclusive(_ path: String, bytes: [UInt8], mode: mode_t) throws(FileError) {
        let temporary = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try writeNew(temporary, bytes: bytes, mode: mode)
        if link(temporary, path) != 0 {
            let code = errno
            unlink(temporary)
            throw FileError(errno: code, operation: "create", path: path)
        }
        unlink(temporary)
        try syncDirectory(of: path)
    }

    /// Writes all of `bytes` to `fd`, again after a short write or EINTR:
    /// 0, or the errno that stopped it.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Int32 {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += written
            }
            return 0
        }
    }

    /// Writes `bytes` to a new file with `mode` (O_EXCL) and fsyncs it.
    public static func writeNew(_ path: String, bytes: [UInt8], mode: mode_t) throws(FileError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else { throw FileError(errno: errno, operation: "create", path: path) }
        var failure: FileError?
        if fchmod(fd, mode) != 0 { failure = FileError(errno: errno, operation: "chmod", path: path) }
        if failure == nil {
            let code = writeAll(fd, bytes)
            if code != 0 { failure = FileError(errno: code, operation: "write", path: path) }
        }
        if failure == nil, fsync(fd) != 0 { failure = FileError(errno: errno, operation: "fsync", path: path) }
        close(fd)
        if let failure {
            unlink(path)
            throw failure
        }
    }

    /// Renames `from` over `to` and syncs the directory.
    public static func replace(_ from: String, with to: String) throws(FileError) {
        guard rename(from, to) == 0 else { throw FileError(errno: errno, operation: "rename", path: to) }
        try syncDirectory(of: to)
    }

    public static func remove(_ path: String) throws(FileError) {
        guard unlink(path) == 0 || errno == ENOENT else {
            throw FileError(errno: errno, operation: "remove", path: path)
        }
        try syncDirectory(of: path)
    }

    /// fsyncs the file at `path` and then its directory.
    public static func sync(_ path: String) throws(FileError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw FileError(errno: errno, operation: "open", path: path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw FileError(errno: errno, operation: "fsync", path: path) }
        try syncDirectory(of: path)
    }

    public static func syncDirectory(of path: String) throws(FileError) {
        let directory = directory(of: path)
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError(errno: errno, operation: "open directory", path: directory) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw FileError(errno: errno, operation: "fsync directory", path: directory) }
    }
}

/// A failed file operation: what, where and the system's reason.
public struct FileError: Error, CustomStringConvertible, Sendable {
    public var errno: Int32
    public var operation: String
    public var path: String

    public var reason: String { String(cString: strerror(errno)) }
    public var description: String { "cannot \(operation) \(path): \(reason)" }
}
