import Foundation

/// Wall-clock time and sleeping, injected so that tests drive time without
/// sleeping.
public protocol WallClock: Sendable {
    var now: Date { get }
    /// Sleeps until `deadline` or until the task is cancelled.
    func sleep(until deadline: Date) async throws
}

/// The system's clock.
public struct SystemClock: WallClock {
    public init() {}

    public var now: Date { Date() }

    public func sleep(until deadline: Date) async throws {
        let seconds = deadline.timeIntervalSinceNow
        if seconds > 0 {
            try await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
        }
    }
}
