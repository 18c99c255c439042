import Foundation
import RotorCore
import RotorPostgres
import RotorTesting
import Testing

/// postgres.md, "Losing the database": a store whose server goes away fails
/// each transaction at once with `databaseUnavailable` (never hangs), and
/// connects again by itself once the server is back.
@Suite(.serialized) struct PostgresReconnectTests {
    @Test func aStoreFailsQuicklyWhileTheServerIsDownAndReconnectsAfter() async throws {
        let server = try await PostgresServer.start()
        let database = try await SharedPostgres.Database.create(on: server)
        let store = try await PostgresStore.open(try PostgresLocation(url: database.url, environment: [:]))
        try await store.migrate()
        let before = try await store.changeMark()

        try await server.stop()
        for _ in 0..<3 {
            let started = Date()
            do {
                try await store.commit(durable: true) { _ in }
                Issue.record("a commit succeeded with the server stopped")
            } catch let error as RotorError {
                #expect(error.code == .databaseUnavailable, "\(error)")
                #expect(!error.message.contains(PostgresServer.password))
            }
            // A generous guard: the point is that it does not wait for the server.
            #expect(Date().timeIntervalSince(started) < 20)
        }
        await #expect(throws: RotorError.self) { _ = try await store.changeMark() }

        try await server.restart()
        // The next attempt waits out the backoff (at most 30 s); poll with a guard.
        let deadline = Date().addingTimeInterval(60)
        var reconnected = false
        while !reconnected, Date() < deadline {
            reconnected =
                (try? await store.commit(durable: true) { writer in
                    _ = try writer.acquireLease(
                        "reconnected", owner: "test/1/1", expiresAt: Date().addingTimeInterval(60), now: Date())
                }) != nil
            if !reconnected { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(reconnected)
        #expect(try await store.changeMark() > before)
        try await store.close()
        try await server.stop()
    }
}
