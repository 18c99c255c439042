import Foundation
import Hummingbird
import Metrics
import NIOCore
import NIOPosix
import Prometheus
import RotorCore

/// `--listen HOST:PORT`: `GET /healthz` and Prometheus `GET /metrics`.
enum OpsServer {
    /// Parses `HOST:PORT` (`[::1]:9090` for IPv6).
    static func address(_ text: String) throws(RotorError) -> (host: String, port: Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            throw RotorError(
                .invalidInput, "--listen takes HOST:PORT, like 127.0.0.1:9090, not \(UserText.quoted(text))")
        }
        let host = String(text[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        guard !host.isEmpty else { throw RotorError(.invalidInput, "--listen needs a host, like 127.0.0.1:9090") }
        return (host, port)
    }

    /// Binds `host:port` once and lets go, so that an address in use is a
    /// clear error before anything starts, not a failure inside a running
    /// service group.
    static func checkBindable(host: String, port: Int, option: String = "--listen address") async throws(RotorError) {
        do {
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: host, port: port).get()
            try await channel.close()
        } catch {
            throw cannotListen(host: host, port: port, option: option, error)
        }
    }

    /// Runs a server whose address passed `checkBindable`: another process
    /// may take the port in between, and its bind failure is then the same
    /// one line, not the event loop's error.
    static func listening(
        host: String, port: Int, option: String = "--listen address", _ body: () async throws -> Void
    ) async throws {
        do {
            try await body()
        } catch let error as IOError where [EADDRINUSE, EADDRNOTAVAIL, EACCES].contains(error.errnoCode) {
            throw cannotListen(host: host, port: port, option: option, error)
        }
    }

    static func cannotListen(host: String, port: Int, option: String, _ error: any Error) -> RotorError {
        let reason =
            (error as? IOError).map { String(cString: strerror($0.errnoCode)) }
            ?? String(String(describing: error).prefix(120))
        return RotorError(
            .io,
            "cannot listen on \(UserText.shown(host)):\(port): \(reason); stop what holds it or pick another \(option)"
        )
    }

    static func application(
        ledger: Ledger, scheduler: Scheduler, metrics: OpsMetrics, token: ListenToken?, host: String, port: Int
    ) -> some ApplicationProtocol {
        let router = Router()
        router.get("/healthz") { _, _ -> Response in
            let (healthy, body) = await health(ledger, scheduler: scheduler)
            return respond(healthy ? .ok : .serviceUnavailable, "application/json", body.canonical + "\n")
        }
        router.get("/metrics") { request, _ -> Response in
            if let refused = token?.refusal(request) { return refused }
            let buffer = await metrics.exposition(ledger)
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: buffer)))
        }
        router.get("/api/status") { request, _ -> Response in
            if let refused = token?.refusal(request) { return refused }
            do {
                let statuses = try await StatusReport.build(ledger: ledger)
                return respond(.ok, "application/json", JSONValue.array(statuses.map(\.json)).canonical + "\n")
            } catch {
                return unavailable(error)
            }
        }
        router.get("/") { request, _ -> Response in
            if let refused = token?.refusal(request) { return refused }
            do {
                return respond(.ok, "text/html; charset=utf-8", try await StatusPage.render(ledger: ledger))
            } catch {
                return unavailable(error)
            }
        }
        return Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "rotor"))
    }

    static func respond(_ status: HTTPResponse.Status, _ type: String, _ text: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// 503 with one line: the database did not answer.
    static func unavailable(_ error: any Error) -> Response {
        let message = (error as? RotorError)?.message ?? "the database does not answer"
        return respond(.serviceUnavailable, "text/plain; charset=utf-8", UserText.escaped(message) + "\n")
    }

    /// Healthy while the scheduler loop is alive and the database answers.
    /// Rotations in progress, failed or waiting for a person are not the
    /// daemon's ill health (an orchestrator restarting it would not help):
    /// they show in `rotor status` and in the metrics.
    static func health(_ ledger: Ledger, scheduler: Scheduler) async -> (Bool, JSONValue) {
        if let reason = scheduler.liveness(now: ledger.clock.now) {
            return (false, ["status": "unhealthy", "reason": .string(reason)])
        }
        do {
            _ = try await ledger.read { try $0.meta(.databaseID) }
        } catch {
            return (false, ["status": "unhealthy", "reason": .string("the database does not answer: \(error)")])
        }
        return (true, ["status": "ok"])
    }
}
