import Foundation
import RotorCore
import Synchronization

/// Runs the built `rotor` binary as a real child process.
public struct RotorProcess: Sendable {
    /// The binary: `ROTOR_BINARY`, or `rotor` beside the test bundle.
    public static let binary: String = {
        if let path = ProcessInfo.processInfo.environment["ROTOR_BINARY"] { return path }
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = bundle.deletingLastPathComponent()
        // The test bundle may be a directory (…/rotorPackageTests.xctest/…); walk up to the build folder.
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("rotor").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return directory.appendingPathComponent("rotor").path
    }()

    /// What a finished process left behind.
    public struct Result: Sendable, CustomStringConvertible {
        public var status: Int32
        /// Set when a signal ended the process.
        public var signal: Int32?
        public var stdout: String
        public var stderr: String

        public var description: String {
            "status \(status) signal \(signal ?? 0)\nstdout: \(stdout)\nstderr: \(stderr)"
        }
        /// stderr split into non-empty lines.
        public var errorLines: [String] { stderr.split(separator: "\n").map(String.init) }
    }

    public var directory: String
    public var environment: [String: String]
    /// A command prefix, e.g. `setpriv --reuid=65534 …` to drop privileges.
    public var prefix: [String] = []
    public var executable: String = RotorProcess.binary

    /// A runner whose `--db` is `directory/rotor.db`.
    public init(directory: String, environment: [String: String] = [:]) {
        self.directory = directory
        self.environment = environment
    }

    /// Runs `rotor ARGS` with `stdin`, waiting at most `timeout` seconds.
    /// It waits without blocking a thread of the concurrency pool, so a
    /// sandbox served by the same test process keeps answering.
    @discardableResult
    public func run(_ arguments: [String], stdin: String = "", timeout: TimeInterval = 60) async throws -> Result {
        let running = try start(arguments, stdin: stdin)
        let timer = Task {
            try await Task.sleep(for: .seconds(timeout))
            running.kill(SIGTERM)
        }
        let result = await running.wait()
        timer.cancel()
        if result.signal == SIGTERM, await timer.result.isSuccess {
            throw RotorError(.io, "rotor \(arguments.joined(separator: " ")) ran past \(Int(timeout))s")
        }
        return result
    }
}

extension Result {
    var isSuccess: Bool {
        if case .success = self { return true }
        return false
    }
}

/// A `rotor` process started in the background.
public final class RunningRotor: Sendable {
    public let process: Process
    private let exited: AsyncStream<Void>
    private let out: PipeReader
    private let err: PipeReader

    init(process: Process, exited: AsyncStream<Void>, out: PipeReader, err: PipeReader) {
        self.process = process
        self.exited = exited
        self.out = out
        self.err = err
    }

    public var pid: Int32 { process.processIdentifier }

    public func kill(_ signal: Int32 = SIGKILL) {
        Glibc.kill(process.processIdentifier, signal)
    }

    /// What the process has written to standard output so far.
    public var stdoutSoFar: String { out.text }

    /// Waits until standard output so far satisfies `condition` (polled,
    /// with a generous guard of `timeout` seconds); false if it never did.
    public func waitForOutput(timeout: TimeInterval = 120, _ condition: (String) -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition(out.text) { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return condition(out.text)
    }

    /// Waits for the process to end.
    public func wait() async -> RotorProcess.Result {
        for await _ in exited {}
        process.waitUntilExit()
        let signaled = process.terminationReason == .uncaughtSignal
        return RotorProcess.Result(
            status: signaled ? -1 : process.terminationStatus, signal: signaled ? process.terminationStatus : nil,
            stdout: await out.finish(), stderr: await err.finish())
    }
}

extension RotorProcess {
    /// Starts `rotor ARGS` and returns at once.
    public func start(_ arguments: [String], stdin: String = "") throws -> RunningRotor {
        let process = Process()
        let launch = prefix + [executable] + arguments
        process.executableURL = URL(fileURLWithPath: launch[0])
        process.arguments = Array(launch.dropFirst())
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var env = ["PATH": "/usr/bin:/bin", "HOME": directory, "ROTOR_DB": "\(directory)/rotor.db"]
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let input = Pipe()
        let output = Pipe()
        let error = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = error
        let exited = AsyncStream<Void>.makeStream()
        process.terminationHandler = { _ in
            exited.continuation.yield()
            exited.continuation.finish()
        }
        try process.run()
        input.fileHandleForWriting.write(Data(stdin.utf8))
        try? input.fileHandleForWriting.close()
        return RunningRotor(
            process: process, exited: exited.stream, out: PipeReader(output.fileHandleForReading),
            err: PipeReader(error.fileHandleForReading))
    }
}

/// Drains a pipe on a background thread so a chatty child never blocks;
/// what it has read so far can be looked at while the child runs.
final class PipeReader: Sendable {
    private let result: Task<String, Never>
    private let sofar = Received()

    final class Received: Sendable {
        let data = Mutex(Data())
    }

    init(_ handle: FileHandle) {
        let (stream, continuation) = AsyncStream<Data>.makeStream()
        let sofar = self.sofar
        Thread.detachNewThread {
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                sofar.data.withLock { $0.append(chunk) }
                continuation.yield(chunk)
            }
            continuation.finish()
        }
        result = Task {
            var data = Data()
            for await chunk in stream { data.append(chunk) }
            return String(decoding: data, as: UTF8.self)
        }
    }

    var text: String { sofar.data.withLock { String(decoding: $0, as: UTF8.self) } }

    func finish() async -> String {
        await result.value
    }
}
