import CRotorShims
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Process-wide protections applied before anything reads a secret.
public enum ProcessHardening {
    /// Files this process creates are private unless a mode is set on
    /// purpose (umask 077); no core dump is written, and on Linux the
    /// process is not dumpable, so other unprivileged processes cannot
    /// read its memory through /proc or ptrace.
    public static func apply() {
        umask(0o077)
        // A hook that exits without reading its stdin must not kill Rotor.
        signal(SIGPIPE, SIG_IGN)
        var limit = rlimit(rlim_cur: 0, rlim_max: 0)
        _ = setrlimit(Int32(RLIMIT_CORE.rawValue), &limit)
        _ = rotor_set_not_dumpable()
    }

    /// Overwrites the password of any `scheme://user:password@…` argument
    /// in the process's own argument memory with `*`, so that `ps` and
    /// `/proc/PID/cmdline` no longer show it once the process has started
    /// (as the MySQL client does with `-p`). The parsed arguments are a copy
    /// taken first. The window before this runs is short; `PGPASSWORD` or a
    /// password file has none.
    public static func hidePasswordsInArguments() {
        _ = CommandLine.arguments
        for index in 1..<Int(CommandLine.argc) {
            guard let argument = CommandLine.unsafeArgv[index] else { continue }
            let bytes = UnsafeMutableBufferPointer(
                start: UnsafeMutableRawPointer(argument).assumingMemoryBound(to: UInt8.self), count: strlen(argument))
            guard let range = passwordRange(in: bytes) else { continue }
            for offset in range { bytes[offset] = UInt8(ascii: "*") }
        }
    }

    /// Where the password of a `scheme://user:password@host…` URL lies in `text`.
    static func passwordRange(in text: some Collection<UInt8>) -> Range<Int>? {
        let bytes = Array(text)
        guard let scheme = bytes.firstRange(of: Array("://".utf8)) else { return nil }
        let start = scheme.upperBound
        let end = bytes[start...].firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") } ?? bytes.count
        guard let at = bytes[start..<end].lastIndex(of: UInt8(ascii: "@")),
            let colon = bytes[start..<at].firstIndex(of: UInt8(ascii: ":")), colon + 1 < at
        else { return nil }
        return (colon + 1)..<at
    }

    /// `user@node` for audit events written by a person at the CLI: the node is `--node`, else the host.
    public static func actor() -> String {
        var user = "uid\(geteuid())"
        if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name {
            user = String(cString: name)
        }
        if let sudoUser = ProcessInfo.processInfo.environment["SUDO_USER"], !sudoUser.isEmpty, sudoUser != user {
            user = "\(sudoUser)(as \(user))"
        }
        return "\(user)@\(LeaseOwner.node)"
    }
}

/// Rotor's version, reported by `rotor --version` and in the User-Agent.
public enum RotorVersion {
    public static let string = "0.1.0"
}
