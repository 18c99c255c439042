import Foundation
import NIOCore
import RotorCore
import VitaleraClient

/// Runs `body` with the HTTP vendor client, shut down afterwards. Each
/// request has `ROTOR_VENDOR_TIMEOUT` seconds (default 30) for all of it.
@discardableResult
func withVendor<T>(retry: RetryPolicy = .interactive, _ body: (VitaleraHTTPClient) async throws -> T) async throws -> T
{
    let timeout = try vendorTimeout()
    return try await VitaleraHTTPClient.with(retry: retry) { client in
        var client = client
        client.requestTimeout = .milliseconds(Int64(timeout * 1000))
        return try await body(client)
    }
}

/// `ROTOR_VENDOR_TIMEOUT`: whole seconds from 1 to 600.
func vendorTimeout() throws(RotorError) -> TimeInterval {
    guard let text = ProcessInfo.processInfo.environment["ROTOR_VENDOR_TIMEOUT"], !text.isEmpty else { return 30 }
    guard text.utf8.allSatisfy({ (0x30...0x39).contains($0) }), text.count <= 3, let seconds = Int(text),
        (1...600).contains(seconds)
    else {
        throw RotorError(
            .invalidInput,
            "ROTOR_VENDOR_TIMEOUT takes whole seconds from 1 to 600 (like 30), not \(UserText.quoted(text))")
    }
    return TimeInterval(seconds)
}
