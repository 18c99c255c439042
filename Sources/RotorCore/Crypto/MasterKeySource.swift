import Foundation

/// Where the master key comes from.
///
/// - ``file(_:)``: a key file Rotor owns. `rotor init` creates it and
///   `rotor key rotate` replaces it, with `<key-file>.old` as the crash net.
/// - ``credential(_:)``: a systemd credential (`LoadCredential=`), a file in
///   `$CREDENTIALS_DIRECTORY` that systemd owns and Rotor only reads.
/// - ``command(_:timeout:)``: a helper (a secret manager's CLI) whose stdout is
///   the key file's text. Rotor only reads it.
///
/// Only a file source can be replaced in place; for the others
/// `rotor key rotate` writes the new key to a file the operator names and
/// moves into the secret store.
public enum MasterKeySource: Sendable, Equatable, CustomStringConvertible {
    case file(String)
    case credential(String)
    case command(String, timeout: TimeInterval)

    /// The credential name Rotor looks for in `$CREDENTIALS_DIRECTORY`.
    public static let credentialName = "rotor.key"
    /// How long a key command may take before its process group is stopped.
    public static let commandTimeout: TimeInterval = 30

    /// The source when no key option is given: the systemd credential if the
    /// process runs with one, else `<database>.key`.
    public static func implicit(databasePath: String, environment: [String: String]) -> MasterKeySource {
        if let directory = environment["CREDENTIALS_DIRECTORY"], !directory.isEmpty {
            let path = directory + "/" + credentialName
            if Files.exists(path) { return .credential(path) }
        }
        return .file(databasePath + ".key")
    }

    /// The key file Rotor may create and replace, if this source has one.
    public var writableFile: String? {
        if case .file(let path) = self { return path }
        return nil
    }

    public var description: String {
        switch self {
        case .file(let path): "key file \(path)"
        case .credential(let path): "systemd credential \(path)"
        case .command: "--key-command"
        }
    }

    /// Reads and parses the key.
    public func load() throws(RotorError) -> MasterKey {
        switch self {
        case .file(let path), .credential(let path):
            return try KeyFile.load(path)
        case .command(let command, let timeout):
            return try Self.run(command, timeout: timeout)
        }
    }

    /// Runs `/bin/sh -c command` with Rotor's environment; its stderr goes to
    /// Rotor's stderr, its stdout is the key. Nothing it prints is repeated
    /// in an error message.
    static func run(_ command: String, timeout: TimeInterval) throws(RotorError) -> MasterKey {
        let result: HookResult
        do {
            result = try HookRunner.runBlocking(
                command: command, stdin: [], environment: ProcessInfo.processInfo.environment, timeout: timeout,
                grace: 2, mask: [], captureStandardError: false)
        } catch let error as RotorError {
            throw error
        } catch {
            throw RotorError(.io, "cannot run the key command: \(error)")
        }
        if let failure = result.failure {
            let detail = result.timedOut ? "timed out after \(Int(timeout)) s; its process group was stopped" : failure
            throw RotorError(
                .keyCommandFailed,
                "the key command \(detail); run it by hand to see why (its stdout must be the key file's text)")
        }
        guard result.outputBytes <= 4096, let key = MasterKey.parse(Array(result.output.utf8)) else {
            throw RotorError(
                .keyFileInvalid,
                "the key command's output (\(result.outputBytes) bytes) is not a Rotor key; it must print the key file's text, `rotor-master-key v1 …`"
            )
        }
        return key
    }
}
