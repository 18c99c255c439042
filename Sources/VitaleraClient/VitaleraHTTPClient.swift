import AsyncHTTPClient
import Foundation
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import RotorCore

/// ``RotorCore/VendorAPI`` over HTTP with async-http-client.
///
/// Grants, refresh and validate are retried with ``RotorCore/RetryPolicy``;
/// `rotate_credentials` is sent exactly once. Answers are read up to 1 MiB
/// and any body, however wrong, becomes a ``RotorCore/VendorError``.
public struct VitaleraHTTPClient: VendorAPI {
    /// API URLs already found acceptable: https, or http to a loopback host.
    static let acceptable = AcceptedURLs()

    public let http: HTTPClient
    public var retry: RetryPolicy
    public var clock: any WallClock
    /// The whole-request timeout.
    public var requestTimeout: TimeAmount

    /// The most of an answer that is read.
    public static let maxBody = 1 << 20
    public static let userAgent = "rotor/\(RotorVersion.string) (credential rotation; +https://api.vitalera.io)"

    public init(
        http: HTTPClient, retry: RetryPolicy = RetryPolicy(), clock: any WallClock = SystemClock(),
        requestTimeout: TimeAmount = .seconds(30)
    ) {
        self.http = http
        self.retry = retry
        self.clock = clock
        self.requestTimeout = requestTimeout
    }

    /// The configuration Rotor uses: connect and read timeouts, no redirects
    /// (a redirect could carry a secret to another host), and a connection
    /// that cannot be made fails at once: ``RetryPolicy`` decides whether to
    /// try again, rather than the pool retrying quietly until its connect
    /// timeout (an unreachable `--api-url` took 20 s to report).
    public static var configuration: HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(30))
        configuration.redirectConfiguration = .disallow
        configuration.connectionPool.retryConnectionEstablishment = false
        return configuration
    }

    /// Runs `body` with a client that is shut down afterwards, whatever happens.
    public static func with<T>(
        retry: RetryPolicy = RetryPolicy(), clock: any WallClock = SystemClock(),
        _ body: (VitaleraHTTPClient) async throws -> T
    ) async throws -> T {
        try await HTTPClient.withHTTPClient(configuration: configuration) { http in
            try await body(VitaleraHTTPClient(http: http, retry: retry, clock: clock))
        }
    }

    // MARK: endpoints

    public func clientCredentialsGrant(apiURL: String, clientID: String, secret: Secret) async throws(VendorError)
        -> AccessToken
    {
        try await retry.run(clock: clock) { () async throws(VendorError) -> AccessToken in
            let answer = try await send(
                .POST, apiURL, "/api/auth/tokens/", bearer: nil,
                body: ["grant_type": "client_credentials", "client_id": clientID, "client_secret": secret.reveal()],
                grant: true, secrets: [secret.reveal()])
            return try VendorAnswer.accessToken(answer, now: clock.now)
        }
    }

    public func passwordGrant(apiURL: String, username: String, password: Secret) async throws(VendorError)
        -> UserTokens
    {
        try await retry.run(clock: clock) { () async throws(VendorError) -> UserTokens in
            let answer = try await send(
                .POST, apiURL, "/api/auth/tokens/", bearer: nil,
                body: ["grant_type": "password", "username": username, "password": password.reveal()], grant: true,
                secrets: [password.reveal()])
            return try VendorAnswer.userTokens(answer, now: clock.now)
        }
    }

    public func refresh(apiURL: String, accessToken: Secret, refreshToken: Secret) async throws(VendorError)
        -> UserTokens
    {
        try await retry.run(clock: clock) { () async throws(VendorError) -> UserTokens in
            let answer = try await send(
                .POST, apiURL, "/api/auth/tokens/refresh/", bearer: accessToken,
                body: ["refresh_token": refreshToken.reveal()], grant: false,
                secrets: [accessToken.reveal(), refreshToken.reveal()])
            return try VendorAnswer.userTokens(answer, now: clock.now, keepingRefresh: refreshToken)
        }
    }

    public func validate(apiURL: String, token: Secret) async throws(VendorError) -> Bool {
        try await retry.run(clock: clock) { () async throws(VendorError) -> Bool in
            do throws(VendorError) {
                _ = try await send(
                    .GET, apiURL, "/api/auth/tokens/validate/", bearer: token, body: nil, grant: false,
                    secrets: [token.reveal()])
                return true
            } catch {
                if error.kind == .invalidToken || error.kind == .expiredToken { return false }
                throw error
            }
        }
    }

    public func rotateCredentials(apiURL: String, token: Secret, applicationID: String) async throws(VendorError)
        -> RotatedPair
    {
        let answer = try await send(
            .POST, apiURL, "/api/applications/rotate_credentials/", bearer: token,
            body: ["application_id": applicationID], grant: false, secrets: [token.reveal()])
        return try VendorAnswer.rotatedPair(answer, applicationID: applicationID)
    }

    // MARK: transport

    /// Sends one request and returns the parsed JSON object of a 2xx answer.
    func send(
        _ method: HTTPMethod, _ apiURL: String, _ path: String, bearer: Secret?, body: [String: String]?, grant: Bool,
        secrets: [String]
    ) async throws(VendorError) -> [String: Any] {
        if let reason = Self.acceptable.refusal(of: apiURL) {
            throw VendorError(.badRequest, message: "refusing \(UserText.shown(apiURL)): \(reason)")
        }
        var request = HTTPClientRequest(url: apiURL + path)
        request.method = method
        request.headers.add(name: "User-Agent", value: Self.userAgent)
        request.headers.add(name: "Accept", value: "application/json")
        if let bearer { request.headers.add(name: "Authorization", value: "Bearer \(bearer.reveal())") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            let text = JSONValue.object(JSONObject(body.mapValues(JSONValue.string))).canonical
            request.body = .bytes(ByteBuffer(string: text))
        }
        let answer: Answer
        let start = ContinuousClock.now
        do {
            answer = try await Self.exchange(request, on: http, within: requestTimeout)
        } catch let error as VendorError {
            Self.count(method, apiURL, path, status: error.status.map(String.init) ?? "error", since: start)
            throw error
        } catch {
            Self.count(method, apiURL, path, status: "error", since: start)
            throw VendorError(.networkError, message: Self.describe(error))
        }
        Self.count(method, apiURL, path, status: String(answer.status), since: start)
        guard (200..<300).contains(answer.status) else {
            throw VendorError.classify(
                status: answer.status, body: answer.bytes, retryAfter: answer.retryAfter, grant: grant,
                masking: secrets)
        }
        return try VendorAnswer.object(answer.bytes, status: answer.status)
    }

    /// `rotor_vendor_requests_total{endpoint,status}`: the endpoint is the
    /// path's last part (`tokens`, `refresh`, `validate`,
    /// `rotate_credentials`), the status an HTTP code or `error` when no
    /// answer came.
    /// Each request is also a `debug` log line (`--verbose`): method, URL,
    /// status and time, never a header or a body.
    static func count(
        _ method: HTTPMethod, _ apiURL: String, _ path: String, status: String, since start: ContinuousClock.Instant
    ) {
        let endpoint = path.split(separator: "/").last.map(String.init) ?? path
        Counter(label: "rotor_vendor_requests_total", dimensions: [("endpoint", endpoint), ("status", status)])
            .increment()
        let elapsed = ContinuousClock.now - start
        let milliseconds = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
        logger.debug(
            "vendor request",
            metadata: [
                "method": "\(method.rawValue)", "url": "\(apiURL + path)", "status": "\(status)",
                "ms": .stringConvertible(milliseconds),
            ])
    }

    static let logger = Logger(label: "rotor.vendor")

    /// An answer as it arrived.
    struct Answer: Sendable {
        var status: Int
        var bytes: [UInt8]
        var retryAfter: String?
    }

    /// Sends `request` and reads its whole answer within `timeout`: connecting,
    /// the head and every byte of the body. A server that drips its answer
    /// a byte at a time is cut off at the deadline like one that says nothing.
    static func exchange(_ request: HTTPClientRequest, on http: HTTPClient, within timeout: TimeAmount)
        async throws -> Answer
    {
        try await withThrowingTaskGroup(of: Answer?.self) { group in
            group.addTask {
                let response = try await http.execute(request, timeout: timeout)
                let status = Int(response.status.code)
                do {
                    var buffer = try await response.body.collect(upTo: maxBody)
                    return Answer(
                        status: status, bytes: buffer.readBytes(length: buffer.readableBytes) ?? [],
                        retryAfter: response.headers.first(name: "Retry-After"))
                } catch is NIOTooManyBytesError {
                    throw VendorError(.malformedAnswer, status: status, message: "the answer is larger than 1 MiB")
                }
            }
            group.addTask {
                try await Task.sleep(nanoseconds: UInt64(max(timeout.nanoseconds, 0)))
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let answer = first else {
                throw HTTPClientError.deadlineExceeded
            }
            return answer
        }
    }

    /// A network failure in words, without anything from the request.
    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as HTTPClientError:
            switch error {
            case .deadlineExceeded, .readTimeout, .connectTimeout: "timed out"
            case .remoteConnectionClosed: "the connection was closed before the answer was complete"
            default: "HTTP client error: \(error.shortDescription)"
            }
        case let error as IOError: "cannot connect: \(String(cString: strerror(error.errnoCode)))"
        case is CancellationError: "cancelled"
        default: String(String(describing: error).prefix(200))
        }
    }
}

/// The API URLs a client may call, each checked once per process.
final class AcceptedURLs: @unchecked Sendable {
    private let lock = NSLock()
    private var accepted: Set<String> = []

    /// Why `apiURL` is refused, or nil when it is accepted.
    func refusal(of apiURL: String) -> String? {
        if lock.withLock({ accepted.contains(apiURL) }) { return nil }
        // The same check as `app add --api-url`: a URL stored before a check was added fails here, not deep in the transport.
        do {
            _ = try Validate.apiURL(apiURL)
        } catch {
            return error.message
        }
        lock.withLock { _ = accepted.insert(apiURL) }
        return nil
    }
}
