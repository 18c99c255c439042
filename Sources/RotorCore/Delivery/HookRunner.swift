import CRotorShims
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How an exec hook ended.
public struct HookResult: Sendable, Equatable {
    /// The exit code, when the hook exited by itself.
    public var exitCode: Int32?
    /// The signal that ended it, if any.
    public var signal: Int32?
    public var timedOut: Bool
    /// stdout and stderr, interleaved as read, at most ``HookRunner/outputLimit``
    /// bytes, with every secret masked.
    public var output: String
    /// How many bytes the hook wrote in all.
    public var outputBytes: Int

    public var succeeded: Bool { exitCode == 0 && !timedOut }

    /// Why it failed, in a few words; nil when it succeeded.
    public var failure: String? {
        if timedOut { return "timed out; its process group was stopped" }
        if let signal { return "killed by signal \(signal)" }
        if let exitCode, exitCode != 0 { return "exited with status \(exitCode)" }
        return nil
    }
}

/// Runs commands the way exec targets and alert hooks need: injected so
/// that tests could drive it, real child processes everywhere here.
public protocol ProcessSpawner: Sendable {
    /// Runs `/bin/sh -c command` in its own process group with `stdin` on
    /// its standard input and exactly `environment`.
    func run(command: String, stdin: [UInt8], environment: [String: String], timeout: TimeInterval, mask: [String])
        async throws -> HookResult
}

/// ``ProcessSpawner`` with posix_spawn: a new process group, a minimal
/// environment, output captured and bounded, and on timeout SIGTERM to the
/// whole group, a grace period, then SIGKILL.
public struct HookRunner: ProcessSpawner {
    /// Bytes of output kept per run; the rest is read and dropped.
    public static let outputLimit = 16 * 1024
    /// Between SIGTERM and SIGKILL.
    public var grace: TimeInterval

    public init(grace: TimeInterval = 5) {
        self.grace = grace
    }

    /// The environment every hook starts from.
    public static let baseEnvironment = [
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "HOME": "/",
    ]

    public func run(
        command: String, stdin: [UInt8], environment: [String: String], timeout: TimeInterval, mask: [String]
    )
        async throws -> HookResult
    {
        let grace = self.grace
        return try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(
                    with: Result {
                        try HookRunner.runBlocking(
                            command: command, stdin: stdin, environment: environment, timeout: timeout, grace: grace,
                            mask: mask)
                    })
            }
        }
    }

    static func runBlocking(
        command: String, stdin: [UInt8], environment: [String: String], timeout: TimeInterval, grace: TimeInterval,
        mask: [String], captureStandardError: Bool = true
    ) throws -> HookResult {
        var input: [Int32] = [-1, -1]
        var output: [Int32] = [-1, -1]
        guard rotor_pipe_cloexec(&input) == 0, rotor_pipe_cloexec(&output) == 0 else {
            throw RotorError(.io, "cannot create pipes for a hook: \(String(cString: strerror(errno)))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input[0], 0)
        posix_spawn_file_actions_adddup2(&actions, output[1], 1)
        if captureStandardError { posix_spawn_file_actions_adddup2(&actions, output[1], 2) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD] { sigaddset(&defaults, signal) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv: [UnsafeMutablePointer<CChar>?] =
            ["/bin/sh", "-c", command].map { (text: String) in strdup(text) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] =
            environment.sorted { $0.key < $1.key }.map { (key: String, value: String) in strdup("\(key)=\(value)") } + [
                nil
            ]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, envp)
        close(input[0])
        close(output[1])
        guard spawned == 0 else {
            close(input[1])
            close(output[0])
            throw RotorError(.io, "cannot start /bin/sh for a hook: \(String(cString: strerror(spawned)))")
        }

        var kept: [UInt8] = []
        let capture = OutputMask.captureLimit(outputLimit, secrets: mask)
        var total = 0
        var status: Int32 = 0
        var exited = false
        var timedOut = false
        var outputOpen = true
        let start = Date()
        var terminatedAt: Date?
        var exitedAt: Date?
        for fd in [output[0], input[1]] {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        // stdin is written as the hook reads it; a hook that reads nothing
        // (or exits first) never blocks Rotor. SIGPIPE is ignored for that.
        signal(SIGPIPE, SIG_IGN)
        var inputFD: Int32 = input[1]
        var written = 0
        if stdin.isEmpty {
            close(inputFD)
            inputFD = -1
        }
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            if inputFD >= 0 {
                let count = stdin.withUnsafeBytes {
                    Glibc.write(inputFD, $0.baseAddress! + written, $0.count - written)
                }
                if count > 0 { written += count }
                if written == stdin.count || (count < 0 && errno != EAGAIN && errno != EINTR) {
                    close(inputFD)
                    inputFD = -1
                }
            }
            if outputOpen {
                var poller = pollfd(fd: output[0], events: Int16(POLLIN), revents: 0)
                _ = poll(&poller, 1, 50)
                while true {
                    let count = buffer.withUnsafeMutableBytes { read(output[0], $0.baseAddress, $0.count) }
                    if count > 0 {
                        total += count
                        if kept.count < capture {
                            kept.append(contentsOf: buffer[0..<min(count, capture - kept.count)])
                        }
                        continue
                    }
                    if count == 0 { outputOpen = false }
                    break
                }
            } else {
                usleep(20_000)
            }
            if !exited {
                let reaped = waitpid(pid, &status, WNOHANG)
                if reaped == pid {
                    exited = true
                    exitedAt = Date()
                }
            }
            let now = Date()
            if !exited {
                if terminatedAt == nil, now.timeIntervalSince(start) > timeout {
                    timedOut = true
                    terminatedAt = now
                    kill(-pid, SIGTERM)
                } else if let terminatedAt, now.timeIntervalSince(terminatedAt) > grace {
                    kill(-pid, SIGKILL)
                }
            }
            // Done once the hook has exited and its output is drained, or a
            // grandchild keeps the pipe open past a short grace.
            if exited && (!outputOpen || now.timeIntervalSince(exitedAt!) > 1) { break }
        }
        if timedOut { kill(-pid, SIGKILL) }
        if inputFD >= 0 { close(inputFD) }
        close(output[0])

        let text = OutputMask.kept(kept, total: total, limit: outputLimit, secrets: mask)
        let signaled = status & 0x7f != 0
        return HookResult(
            exitCode: signaled ? nil : (status >> 8) & 0xff, signal: signaled ? status & 0x7f : nil, timedOut: timedOut,
            output: text, outputBytes: total)
    }
}
