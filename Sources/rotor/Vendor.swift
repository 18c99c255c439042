import RotorCore
import VitaleraClient

/// Runs `body` with the HTTP vendor client, shut down afterwards.
@discardableResult
func withVendor<T>(retry: RetryPolicy = .interactive, _ body: (VitaleraHTTPClient) async throws -> T) async throws -> T
{
    try await VitaleraHTTPClient.with(retry: retry, body)
}
