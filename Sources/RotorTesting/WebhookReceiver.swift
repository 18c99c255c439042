import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import RotorCore
import Synchronization

/// A webhook receiver on a loopback port, for the tests: it keeps every
/// request (headers and body) and answers `failures` requests with 503
/// before it answers 204.
public final class WebhookReceiver: Sendable {
    public struct Received: Sendable {
        public var path: String
        public var headers: [String: String]
        public var body: [UInt8]
        public var status: Int
    }

    private let state: Mutex<(received: [Received], failuresLeft: Int)>
    private let task: Mutex<Task<Void, any Error>?> = Mutex(nil)
    private let bound = Mutex(0)
    public var port: Int { bound.withLock { $0 } }

    private init(failures: Int) {
        state = Mutex(([], failures))
    }

    public var url: String { "http://127.0.0.1:\(port)" }
    public var received: [Received] { state.withLock { $0.received } }

    /// Starts a receiver that fails the first `failures` requests.
    public static func start(failures: Int = 0) async throws -> WebhookReceiver {
        let receiver = WebhookReceiver(failures: failures)
        let router = Router()
        router.post("/**") { request, _ -> Response in
            var request = request
            let body = try await request.collectBody(upTo: 1 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            let status = receiver.state.withLock { state -> Int in
                let status = state.failuresLeft > 0 ? 503 : 204
                if state.failuresLeft > 0 { state.failuresLeft -= 1 }
                state.received.append(
                    Received(
                        path: request.uri.path, headers: headers, body: Array(buffer: body), status: status))
                return status
            }
            return Response(status: .init(code: status))
        }
        var logger = Logger(label: "rotor.test.webhook")
        logger.logLevel = .critical
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router, configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) }, logger: logger)
        let task = Task {
            defer { continuation.finish() }
            try await app.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw RotorError(.io, "the webhook receiver did not listen") }
        receiver.bound.withLock { $0 = port }
        receiver.task.withLock { $0 = task }
        return receiver
    }

    public func stop() async {
        let task = task.withLock { $0 }
        task?.cancel()
        _ = try? await task?.value
    }
}
