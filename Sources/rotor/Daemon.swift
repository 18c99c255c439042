import Foundation
import Logging
import RotorCore
import ServiceLifecycle

/// The scheduler as a ServiceLifecycle service: on graceful shutdown it
/// stops taking work and returns at the next safe point.
struct SchedulerService: Service {
    let scheduler: Scheduler

    func run() async throws {
        let stop = StopSignal()
        try await withGracefulShutdownHandler {
            try await scheduler.run(until: stop)
        } onGracefulShutdown: {
            stop.stop()
            SecondSignal.arm()
        }
    }
}

/// A server of the daemon's whose bind failure reads as `checkBindable`'s.
struct ListeningService<Server: Service>: Service {
    let server: Server
    let host: String
    let port: Int

    func run() async throws {
        try await OpsServer.listening(host: host, port: port) { try await server.run() }
    }
}

/// After the first SIGTERM or SIGINT started a graceful shutdown, a second
/// one ends the process at once (an interrupted rotation is resolved by the
/// next run, like after a crash).
enum SecondSignal {
    nonisolated(unsafe) static var sources: [any DispatchSourceSignal] = []

    static func arm() {
        for signal in [SIGTERM, SIGINT] {
            let source = DispatchSource.makeSignalSource(signal: signal, queue: .global())
            source.setEventHandler {
                Console.writeError("rotor: second signal, exiting now\n")
                exit(1)
            }
            source.resume()
            sources.append(source)
        }
    }
}
