import Foundation

/// Exponential backoff with full jitter, a cap and a deadline, honouring
/// `Retry-After`. Used only for idempotent calls.
public struct RetryPolicy: Sendable {
    /// The first delay's upper bound.
    public var base: TimeInterval
    /// The largest delay.
    public var cap: TimeInterval
    /// No attempt starts later than this after the first.
    public var deadline: TimeInterval
    /// At most this many attempts in all.
    public var maxAttempts: Int

    public init(base: TimeInterval = 0.5, cap: TimeInterval = 30, deadline: TimeInterval = 120, maxAttempts: Int = 8) {
        self.base = base
        self.cap = cap
        self.deadline = deadline
        self.maxAttempts = maxAttempts
    }

    /// For a person waiting at a terminal: a few quick retries, 20 s at most.
    public static let interactive = RetryPolicy(base: 0.5, cap: 5, deadline: 20, maxAttempts: 5)

    /// One attempt, no retries.
    public static let none = RetryPolicy(base: 0, cap: 0, deadline: 0, maxAttempts: 1)

    /// The delay before attempt `attempt + 1` (attempt counts from 0), with
    /// `random` in [0, 1). `Retry-After` wins when it is longer.
    public func delay(afterAttempt attempt: Int, retryAfter: TimeInterval?, random: Double) -> TimeInterval {
        let ceiling = min(cap, base * pow(2, Double(min(attempt, 30))))
        let jittered = ceiling * random
        return max(jittered, min(retryAfter ?? 0, max(cap, deadline)))
    }

    /// Runs `operation` until it succeeds, fails with a non-transient error,
    /// or the attempts or deadline run out; the last error is thrown.
    public func run<T>(
        clock: any WallClock, random: @Sendable () -> Double = { Double.random(in: 0..<1) },
        _ operation: () async throws(VendorError) -> T
    ) async throws(VendorError) -> T {
        let start = clock.now
        var attempt = 0
        while true {
            do {
                return try await operation()
            } catch {
                attempt += 1
                guard error.isTransient, attempt < maxAttempts else { throw error }
                let wait = delay(afterAttempt: attempt - 1, retryAfter: error.retryAfter, random: random())
                let next = clock.now.addingTimeInterval(wait)
                guard next.timeIntervalSince(start) <= deadline else { throw error }
                do {
                    try await clock.sleep(until: next)
                } catch {
                    throw VendorError(.networkError, message: "cancelled while waiting to retry")
                }
            }
        }
    }
}
