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
