import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Named points where crash tests kill the process. `ROTOR_FAILPOINTS`
/// holds a comma-separated list of names; reaching a listed point sends
/// SIGKILL to the process itself, exactly as an outside `kill -9` would.
/// Unset (always, in production) it costs one dictionary lookup at start.
public enum Failpoint {
    private static let armed: Set<String> = {
        guard let list = ProcessInfo.processInfo.environment["ROTOR_FAILPOINTS"] else { return [] }
        return Set(list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
    }()

    public static func hit(_ name: String) {
        if armed.contains(name) {
            kill(getpid(), SIGKILL)
        }
    }
}
