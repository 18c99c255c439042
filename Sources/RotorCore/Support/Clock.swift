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

    /// However far off `deadline` is (even `.distantFuture`), it sleeps in
    /// steps of at most a day.
    public func sleep(until deadline: Date) async throws {
        while true {
            let seconds = deadline.timeIntervalSinceNow
            guard seconds > 0 else { return }
            try await Task.sleep(for: .milliseconds(Int64(seconds.isFinite ? min(seconds, 86400) * 1000 : 86_400_000)))
        }
    }
}
