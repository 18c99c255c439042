import Foundation
import RotorCore
import RotorTesting
import Testing
import VitaleraClient

/// An alert that cannot be sent waits in the store and is tried again with
/// the delivery backoff, for a day at most; a real hook process and a real
/// webhook receiver on loopback, time from an ``InstantClock``.
struct AlertQueueTests {
    static let failed = AlertDispatcher.Alert(
        event: .failed, app: "billing", rotationID: 7, state: "failed", error: "the vendor answered 500",
        message: "billing was not rotated.")

    func queue(_ db: TestDatabase) async throws -> [QueuedAlert] {
        try await db.ledger.read { try $0.queuedAlerts(dueBy: .distantFuture) }
    }

    @Test func aHookThatFailsIsTriedAgainOnTheBackoffUntilItRuns() async throws {
        let db = try await TestDatabase()
        let marker = db.directory.file("pager-up")
        let log = db.directory.file("pager.log")
        try await TargetRegistry(ledger: db.ledger).addAlert(
            command: "test -e '\(marker)' && cat >> '\(log)'", timeout: 10)
        let alerts = AlertDispatcher(ledger: db.ledger, spawner: HookRunner())
        #expect(await alerts.send(Self.failed) == 1)
        let queued = try #require(try await queue(db).first)
        #expect(queued.attempts == 1 && queued.event == "rotation.failed" && queued.app == "billing")
        #expect(queued.lastError?.isEmpty == false)
        #expect(queued.nextAttemptAt <= db.clock.now.addingTimeInterval(30))
        #expect(try await db.ledger.read { try $0.nextRetryTime() } == queued.nextAttemptAt)

        // Still down: tried again after its backoff, and waits for the next one (at most 60 s).
        db.clock.advance(by: 30)
        var report = await alerts.retryQueued(at: db.clock.now)
        #expect(report.failed == 1 && report.sent == 0)
        let again = try #require(try await queue(db).first)
        #expect(again.attempts == 2 && again.nextAttemptAt <= db.clock.now.addingTimeInterval(60))
        // Nothing is due before then.
        #expect(await alerts.retryQueued(at: db.clock.now.addingTimeInterval(-1)).sent == 0)

        try Data().write(to: URL(fileURLWithPath: marker))
        db.clock.advance(by: 60)
        report = await alerts.retryQueued(at: db.clock.now)
        #expect(report.sent == 1 && report.failed == 0)
        #expect(try await queue(db).isEmpty)
        let document = String(decoding: try Data(contentsOf: URL(fileURLWithPath: log)), as: UTF8.self)
        #expect(document.components(separatedBy: "rotation.failed").count == 2, "sent once: \(document)")
        #expect(try await db.ledger.read { try $0.nextRetryTime() } == nil)
    }

    @Test func anAlertThatNeverGoesOutIsDroppedAfterADay() async throws {
        let db = try await TestDatabase()
        try await TargetRegistry(ledger: db.ledger).addAlert(command: "exit 3", timeout: 10)
        let alerts = AlertDispatcher(ledger: db.ledger, spawner: HookRunner())
        let start = db.clock.now
        #expect(await alerts.send(Self.failed) == 1)
        var dropped: [QueuedAlert] = []
        var passes = 0
        while dropped.isEmpty, passes < 100 {
            db.clock.advance(by: 3600)
            dropped = await alerts.retryQueued(at: db.clock.now).dropped
            passes += 1
        }
        let item = try #require(dropped.first)
        #expect(db.clock.now.timeIntervalSince(start) >= AlertDispatcher.retryWindow)
        #expect(db.clock.now.timeIntervalSince(start) < AlertDispatcher.retryWindow + 3601)
        #expect(item.attempts >= 24 && item.lastError?.contains("3") == true)
        #expect(try await queue(db).isEmpty)
    }

    @Test func aWebhookAlertWaitsForItsReceiver() async throws {
        let receiver = try await WebhookReceiver.start(failures: 4)
        try await withClient { client in
            let db = try await TestDatabase()
            try await TargetRegistry(ledger: db.ledger).addAlert(
                command: "", timeout: 10, webhook: WebhookTarget(url: receiver.url + "/alerts", timeout: 10))
            let alerts = AlertDispatcher(
                ledger: db.ledger, spawner: HookRunner(), webhooks: HTTPWebhookPoster(http: client.http))
            // Three quick tries, then the queue.
            #expect(await alerts.send(Self.failed) == 1)
            #expect(receiver.received.count == 3)
            #expect(try await queue(db).first?.lastError == "the webhook answered 503")
            db.clock.advance(by: 30)
            #expect(await alerts.retryQueued(at: db.clock.now).failed == 1)
            db.clock.advance(by: 60)
            #expect(await alerts.retryQueued(at: db.clock.now).sent == 1)
            #expect(receiver.received.map(\.status) == [503, 503, 503, 503, 204])
            let bodies = Set(receiver.received.map(\.body))
            #expect(bodies.count == 1, "the same document each time")
            #expect(try await queue(db).isEmpty)
        }
        await receiver.stop()
    }

    @Test func alertListShowsWhatWaitsToBeSentAgain() async throws {
        try await withSandbox { sandbox in
            let cli = CLIHarness()
            try await cli.initialize()
            try await cli.addApp("billing", from: sandbox)
            try await cli.expectSuccess(["alert", "add", "--exec", "echo pager down >&2; exit 3", "--on", "completed"])
            #expect(try await cli.run(["rotate", "billing"]).status == 0)
            let listed = try #require(JSONValue.parse(try await cli.expectSuccess(["alert", "list", "--json"]).stdout))
            guard case .array(let alerts) = listed, let alert = alerts.first else {
                Issue.record("not a list of alerts: \(listed)")
                return
            }
            #expect(alert["queued"] == 1, "\(alert)")
            #expect(alert["last_error"].map { "\($0)".contains("3") } == true, "\(alert)")
            let table = try await cli.expectSuccess(["alert", "list"]).stdout
            #expect(table.contains("QUEUED") && table.contains("1 ("), "\(table)")
        }
    }
}
