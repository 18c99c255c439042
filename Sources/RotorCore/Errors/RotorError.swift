/// An error a person reads: a stable code for scripts and tests, one sentence
/// that names the fix, and the exit status the command ends with.
///
/// The message never carries a secret: callers build it from names, paths and
/// codes only.
public struct RotorError: Error, CustomStringConvertible, Equatable, Sendable {
    public var code: Code
    public var message: String
    public var exitStatus: ExitStatus

    public init(_ code: Code, _ message: String, exit: ExitStatus? = nil) {
        self.code = code
        self.message = message
        self.exitStatus = exit ?? code.defaultExitStatus
    }

    public var description: String { message }

    /// Stable identifiers of what went wrong.
    public enum Code: String, Sendable, Equatable {
        case invalidInput = "invalid_input"
        case notFound = "not_found"
        case alreadyExists = "already_exists"
        case notInitialized = "not_initialized"
        case keyFileMissing = "key_file_missing"
        case keyFileInvalid = "key_file_invalid"
        case keyFilePermissions = "key_file_permissions"
        case keyMismatch = "key_mismatch"
        case keyCommandFailed = "key_command_failed"
        case databaseInvalid = "database_invalid"
        case databaseTooNew = "database_too_new"
        case databaseUnavailable = "database_unavailable"
        case decryptionFailed = "decryption_failed"
        case busy = "busy"
        case verificationUnavailable = "verification_unavailable"
        case pairRejected = "pair_rejected"
        case vendorUnavailable = "vendor_unavailable"
        case io = "io"

        var defaultExitStatus: ExitStatus {
            switch self {
            case .invalidInput, .notFound, .alreadyExists, .notInitialized, .keyFileMissing,
                .keyFileInvalid, .keyFilePermissions, .keyMismatch, .databaseInvalid,
                .databaseTooNew, .verificationUnavailable:
                .usage
            case .databaseUnavailable, .decryptionFailed, .busy, .io, .pairRejected, .vendorUnavailable,
                .keyCommandFailed:
                .failed
            }
        }
    }
}
