import Foundation
import RotorCore
import VitaleraClient
import VitaleraSandbox

/// A clock whose sleeps return at once, moving its time to the deadline and
/// recording how long each would have been.
public final class InstantClock: WallClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date
    private var recorded: [TimeInterval] = []

    /// Starts at `start`, by default now rounded down to the millisecond, as
    /// the database stores times.
    public init(
        _ start: Date = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1000).rounded(.down) / 1000)
    ) {
        current = start
    }

    public var now: Date { lock.withLock { current } }

    /// Every sleep so far, in seconds.
    public var sleeps: [TimeInterval] { lock.withLock { recorded } }

    public func advance(by seconds: TimeInterval) {
        lock.withLock { current = current.addingTimeInterval(seconds) }
    }

    public func sleep(until deadline: Date) async throws {
        lock.withLock {
            recorded.append(max(0, deadline.timeIntervalSince(current)))
            if deadline > current { current = deadline }
        }
    }
}

/// The sandbox vendor on a loopback port with one application and one user.
public struct SandboxFixture: Sendable {
    public let server: RunningSandbox
    public let application: SandboxApplication
    public let user: SandboxUser

    public var vendor: SandboxVendor { server.vendor }
    public var url: String { server.url }

    /// The sandbox application as an app `name` with the vendor's original pair.
    public func appSpec(_ name: String = "billing", schedule: Schedule = .none) -> AppSpec {
        AppSpec(
            name: name, applicationID: application.id, clientID: application.clientID,
            clientSecret: Secret(application.clientSecret), apiURL: url, schedule: schedule)
    }

    /// The application's pair as the vendor holds it now.
    public func currentPair() async -> (clientID: String, clientSecret: String) {
        let application = await vendor.application(application.id)!
        return (application.clientID, application.clientSecret)
    }
}

/// Runs `body` with a sandbox on a free loopback port, stopped afterwards.
@discardableResult
public func withSandbox<T>(
    settings: SandboxSettings = SandboxSettings(), clock: any WallClock = SystemClock(),
    _ body: (SandboxFixture) async throws -> T
) async throws -> T {
    let vendor = SandboxVendor(settings: settings, clock: clock)
    let application = await vendor.addApplication(name: "TestApp", organization: "org-1")
    let user = await vendor.addUser(username: "admin@example.com", organization: "org-1")
    let server = try await SandboxServer.start(vendor: vendor)
    do {
        let result = try await body(SandboxFixture(server: server, application: application, user: user))
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}

/// Runs `body` with an HTTP vendor client that retries on `clock`.
@discardableResult
public func withClient<T>(
    retry: RetryPolicy = RetryPolicy(), clock: any WallClock = SystemClock(),
    _ body: (VitaleraHTTPClient) async throws -> T
) async throws -> T {
    try await VitaleraHTTPClient.with(retry: retry, clock: clock, body)
}
