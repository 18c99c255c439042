/// The process exit statuses of `cli.md`; scripts outside the repository
/// depend on the numbers.
public enum ExitStatus: Int32, Sendable, Codable {
    /// Done.
    case success = 0
    /// Failed, and the credentials at the vendor are unchanged.
    case failed = 1
    /// The vendor rotated and the new pair is stored, but verification or a
    /// delivery is still pending or failed.
    case pending = 3
    /// The state at the vendor is unknown or the credentials are lost.
    case operatorAction = 4
    /// Bad usage or bad input.
    case usage = 64
}
