import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import RotorCore

/// ``RotorCore/WebhookPoster`` with async-http-client: https, or http to a
/// loopback host; no redirects; the whole request within the target's
/// timeout. An error names the receiver's scheme and host, never its path
/// (a webhook URL often carries a token) and never the body.
public struct HTTPWebhookPoster: WebhookPoster {
    let http: HTTPClient

    public init(http: HTTPClient) {
        self.http = http
    }

    public func post(url: String, headers: [(String, String)], body: [UInt8], timeout: TimeInterval) async throws
        -> Int
    {
        let shown = WebhookTarget(url: url).shownURL
        if let reason = Self.refusal(of: url) {
            throw RotorError(.invalidInput, "refusing the webhook \(shown): \(reason)")
        }
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "User-Agent", value: VitaleraHTTPClient.userAgent)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let answer = try await VitaleraHTTPClient.exchange(
                request, on: http, within: .milliseconds(Int64(timeout * 1000)))
            return answer.status
        } catch let error as RotorError {
            throw error
        } catch let error as VendorError {
            throw RotorError(.io, "the webhook \(shown) answered badly: \(error.message)")
        } catch {
            throw RotorError(.io, "the webhook \(shown) did not answer: \(VitaleraHTTPClient.describe(error))")
        }
    }

    /// Why `url` is not a webhook Rotor sends a secret to, or nil.
    public static func refusal(of url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty
        else { return "it is not a URL" }
        if components.user != nil || components.password != nil {
            return "it carries a user name or password; use --header"
        }
        if let port = components.port, !(1...65535).contains(port) { return "its port is out of range" }
        switch scheme {
        case "https": return nil
        case "http": return Validate.isLoopback(host) ? nil : "plain http is allowed only to a loopback host"
        default: return "it must start with https:// (or http:// for a loopback host)"
        }
    }
}
