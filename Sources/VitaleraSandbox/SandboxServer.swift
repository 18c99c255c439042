import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import RotorCore

/// The sandbox vendor over HTTP: the five endpoints of `vitalera-api.md`
/// with their documented bodies, fault injection, and control endpoints
/// under `/_sandbox/` for trials from the shell.
public struct SandboxServer: Sendable {
    public let vendor: SandboxVendor

    public init(vendor: SandboxVendor) {
        self.vendor = vendor
    }

    /// Serves until the surrounding task is cancelled, or with `signals`
    /// until SIGTERM or SIGINT. `onReady` receives the bound port.
    public func run(
        host: String, port: Int, signals: Bool = false, onReady: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        var logger = Logger(label: "rotor.sandbox")
        logger.logLevel = .critical
        let app = Application(
            router: router(),
            configuration: ApplicationConfiguration(
                address: .hostname(host, port: port), serverName: "vitalera-sandbox"),
            onServerRunning: { channel in await onReady(channel.localAddress?.port ?? port) },
            logger: logger)
        if signals {
            try await app.runService()
        } else {
            try await app.run()
        }
    }

    /// Starts the server on a background task; returns once it listens.
    public static func start(vendor: SandboxVendor, host: String = "127.0.0.1", port: Int = 0) async throws
        -> RunningSandbox
    {
        let server = SandboxServer(vendor: vendor)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let task = Task {
            defer { continuation.finish() }
            try await server.run(host: host, port: port) { continuation.yield($0) }
        }
        var iterator = ports.makeAsyncIterator()
        guard let bound = await iterator.next() else {
            _ = try await task.value
            throw RotorError(.io, "the sandbox stopped before it listened")
        }
        return RunningSandbox(vendor: vendor, host: host, port: bound, task: task)
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/api/auth/tokens/") { request, _ in
            try await handle(request) { body in
                body["grant_type"] as? String == "password" ? .password : .grant
            } answer: { vendor, _, data in
                await vendor.grant(data)
            }
        }
        router.post("/api/auth/tokens/refresh/") { request, _ in
            try await handle(request) { _ in
                .refresh
            } answer: { vendor, bearer, data in
                await vendor.refresh(bearer: bearer, data)
            }
        }
        router.get("/api/auth/tokens/validate/") { request, _ in
            try await handle(request) { _ in
                .validate
            } answer: { vendor, bearer, _ in
                await vendor.validate(bearer: bearer)
            }
        }
        router.post("/api/applications/rotate_credentials/") { request, _ in
            try await handle(request) { _ in
                .rotate
            } answer: { vendor, bearer, data in
                await vendor.rotate(bearer: bearer, data)
            }
        }
        router.get("/_sandbox/applications") { _, _ in
            let applications = await vendor.allApplications()
            return Self.response(
                SandboxAnswer(
                    status: 200, body: String(decoding: try JSONEncoder().encode(applications), as: UTF8.self)))
        }
        router.post("/_sandbox/applications") { request, _ in
            var request = request
            let data = Data(buffer: try await request.collectBody(upTo: 65536))
            guard
                let wanted = try? JSONDecoder().decode(
                    SandboxNewApplication.self, from: data.isEmpty ? Data("{}".utf8) : data),
                wanted.isPlausible
            else {
                return Self.response(
                    .detail(
                        400,
                        "expected {\"name\":\"Billing\",\"organization\":\"org-demo\"} (both optional, at most 100 characters)",
                        code: "parse_error"))
            }
            let application = await vendor.addApplication(
                name: wanted.name ?? "TestApp", organization: wanted.organization ?? "org-demo")
            return Self.response(
                SandboxAnswer(status: 201, body: String(decoding: try JSONEncoder().encode(application), as: UTF8.self))
            )
        }
        router.get("/_sandbox/faults") { _, _ in
            let faults = await vendor.activeFaults()
            return Self.response(
                SandboxAnswer(status: 200, body: String(decoding: try JSONEncoder().encode(faults), as: UTF8.self)))
        }
        router.post("/_sandbox/faults") { request, _ in
            var request = request
            let data = Data(buffer: try await request.collectBody(upTo: 65536))
            guard let fault = try? JSONDecoder().decode(SandboxFault.self, from: data) else {
                return Self.response(
                    .detail(400, "expected a fault like {\"endpoint\":\"rotate\",\"status\":503}", code: "parse_error"))
            }
            await vendor.inject(fault)
            return Self.response(SandboxAnswer(status: 204, body: ""))
        }
        router.delete("/_sandbox/faults") { _, _ in
            await vendor.clearFaults()
            return Self.response(SandboxAnswer(status: 204, body: ""))
        }
        router.get("/_sandbox/settings") { _, _ in
            let settings = await vendor.settings
            return Self.response(
                SandboxAnswer(status: 200, body: String(decoding: try JSONEncoder().encode(settings), as: UTF8.self)))
        }
        router.post("/_sandbox/settings") { request, _ in
            var request = request
            let data = Data(buffer: try await request.collectBody(upTo: 65536))
            guard let settings = try? JSONDecoder().decode(SandboxSettings.self, from: data) else {
                return Self.response(
                    .detail(
                        400, "expected {\"token_lifetime\":3600,\"tokens_survive_rotation\":true}", code: "parse_error")
                )
            }
            await vendor.setSettings(settings)
            return Self.response(SandboxAnswer(status: 204, body: ""))
        }
        return router
    }

    /// Reads the body, picks the endpoint, applies its fault if one is
    /// armed, and writes the answer.
    private func handle(
        _ request: Request, endpoint: ([String: Any]) -> SandboxEndpoint,
        answer: (SandboxVendor, String?, Data) async -> SandboxAnswer
    ) async throws -> Response {
        var request = request
        let data = Data(buffer: try await request.collectBody(upTo: 65536))
        var body: [String: Any] = [:]
        if !data.isEmpty {
            guard let parsed = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
                return Self.response(.detail(400, "JSON parse error", code: "parse_error"))
            }
            body = parsed
        }
        var bearer: String?
        if let header = request.headers[.authorization], header.hasPrefix("Bearer ") {
            bearer = String(header.dropFirst("Bearer ".count))
        }
        let which = endpoint(body)
        let fault = await vendor.begin(which)
        await vendor.waitIfHeld(which)
        if let latency = fault?.latencyMS {
            try await Task.sleep(for: .milliseconds(latency))
        }
        if let status = fault?.status {
            var answer = fault?.body.map { SandboxAnswer(status: status, body: $0) } ?? Self.defaultAnswer(status)
            if let retryAfter = fault?.retryAfter { answer.headers["Retry-After"] = String(retryAfter) }
            if let drip = fault?.dripMS { return Self.dripping(answer, every: drip) }
            return Self.response(answer)
        }
        let result = await answer(vendor, bearer, data)
        guard result.status == 200, let afterCommit = fault?.afterCommit else {
            return Self.response(result)
        }
        switch afterCommit {
        case .garbage:
            return Self.response(
                SandboxAnswer(status: 200, body: "<html><body>502 Bad Gateway</body></html>\u{0}{\"client_"))
        case .delay:
            try await Task.sleep(for: .milliseconds(fault?.delayAfterCommitMS ?? 5000))
            return Self.response(result)
        case .drop:
            // Promise the whole body, send half, then cut the connection.
            let bytes = Array(result.body.utf8)
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            let body = ResponseBody(contentLength: bytes.count) { writer in
                try await writer.write(ByteBuffer(bytes: bytes.prefix(bytes.count / 2)))
                throw CancellationError()
            }
            return Response(status: .ok, headers: headers, body: body)
        }
    }

    static func defaultAnswer(_ status: Int) -> SandboxAnswer {
        switch status {
        case 401: .authError(401, "expired_token", "Access token expired")
        case 403: .detail(403, "You do not have permission to perform this action.", code: "permission_denied")
        case 404: .detail(404, "Not found.", code: "not_found")
        case 429: .detail(429, "Request was throttled.", code: "throttled")
        case 502: .detail(502, "Upstream unavailable.", code: "bad_gateway")
        case 503: .detail(503, "Service unavailable: maintenance.", code: "maintenance")
        default: .detail(status, "Unexpected error.", code: "error")
        }
    }

    /// `answer` with its body sent a byte every `milliseconds`.
    static func dripping(_ answer: SandboxAnswer, every milliseconds: Int) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        let bytes = Array(answer.body.utf8)
        let body = ResponseBody(contentLength: bytes.count) { writer in
            for byte in bytes {
                try await Task.sleep(for: .milliseconds(milliseconds))
                try await writer.write(ByteBuffer(bytes: [byte]))
            }
            try await writer.finish(nil)
        }
        return Response(status: HTTPResponse.Status(code: answer.status), headers: headers, body: body)
    }

    static func response(_ answer: SandboxAnswer) -> Response {
        var headers = HTTPFields()
        if !answer.body.isEmpty { headers[.contentType] = "application/json" }
        for (name, value) in answer.headers {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        let status = HTTPResponse.Status(code: answer.status)
        return Response(
            status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: answer.body)))
    }
}

/// A sandbox serving on a background task.
public final class RunningSandbox: Sendable {
    public let vendor: SandboxVendor
    public let host: String
    public let port: Int
    private let task: Task<Void, any Error>

    init(vendor: SandboxVendor, host: String, port: Int, task: Task<Void, any Error>) {
        self.vendor = vendor
        self.host = host
        self.port = port
        self.task = task
    }

    /// `http://127.0.0.1:PORT`.
    public var url: String { "http://\(host.contains(":") ? "[\(host)]" : host):\(port)" }

    /// Stops the server and waits until it has.
    public func stop() async {
        task.cancel()
        _ = try? await task.value
    }
}
