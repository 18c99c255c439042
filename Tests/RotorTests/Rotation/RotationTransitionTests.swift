import Foundation
import RotorCore
import Testing

/// The state machine of `rotation.md`, row by row, without I/O: each row is
/// a rotation in some state, a move, and everything the move must produce.
struct RotationTransitionTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let started = now.addingTimeInterval(-90)
    static let due = now.addingTimeInterval(-600)
    static let backoff = RetryPolicy(base: 30, cap: 3600, deadline: .infinity, maxAttempts: .max)
    /// With `random` 0.5 the backoff after attempt n is 15 s × 2ⁿ.
    static let random = 0.5

    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        var from: RotationState
        var attempts = 0
        var refusal: Refusal?
        var trigger: RotationTrigger = .manual
        var to: RotationState
        var error: String?
        var toVersion: Int?
        var nextAttemptAt: Date?
        // What the move must produce.
        var attemptsAfter: Int
        var nextAttemptAfter: Date?
        var finished: Bool
        var tokenKept: Bool
        var audit: AuditAction?
        var effects: [RotationTransition.Effect] = []

        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(
            name: "the answer is stored", from: .requesting, attempts: 2, to: .rotated, toVersion: 2, attemptsAfter: 0,
            finished: false, tokenKept: true),
        Row(
            name: "a first unresolved attempt is recorded", from: .requesting, to: .requesting,
            error: "could not learn what the vendor did", attemptsAfter: 1,
            nextAttemptAfter: now.addingTimeInterval(15),
            finished: false, tokenKept: true, audit: .rotationFailed),
        Row(
            name: "later unresolved attempts back off silently", from: .requesting, attempts: 2, to: .requesting,
            error: "still unknown", attemptsAfter: 3, nextAttemptAfter: now.addingTimeInterval(60), finished: false,
            tokenKept: true),
        Row(
            name: "the in-flight window sets the next attempt", from: .requesting, to: .requesting,
            error: "its rotate request may still be in flight", nextAttemptAt: started.addingTimeInterval(120),
            attemptsAfter: 1, nextAttemptAfter: started.addingTimeInterval(120), finished: false, tokenKept: true,
            audit: .rotationFailed),
        Row(
            name: "a clear refusal needs an operator", from: .requesting, refusal: .clear, to: .aborted,
            error: "forbidden, HTTP 403", attemptsAfter: 0, finished: true, tokenKept: false, audit: .rotationFailed,
            effects: [
                .needsAction(
                    reason:
                        "the vendor refused rotation 7 (forbidden, HTTP 403); fix the cause at the vendor, then run `rotor rotate billing`"
                )
            ]),
        Row(
            name: "a transient refusal of a scheduled rotation retries its occurrence", from: .requesting,
            refusal: .transient(retryAfter: 5), trigger: .schedule, to: .aborted, error: "HTTP 503", attemptsAfter: 0,
            finished: true, tokenKept: false, audit: .rotationFailed,
            effects: [.retryOccurrence(due: due, refusal: .transient(retryAfter: 5), error: "HTTP 503")]),
        Row(
            name: "a transient refusal of a manual rotation only ends it", from: .requesting,
            refusal: .transient(retryAfter: nil), to: .aborted, error: "HTTP 503", attemptsAfter: 0, finished: true,
            tokenKept: false, audit: .rotationFailed),
        Row(
            name: "a lost rotation needs an operator", from: .requesting, attempts: 1, to: .lost,
            error: "no valid token is left", attemptsAfter: 1, finished: true, tokenKept: false,
            audit: .rotationFailed,
            effects: [
                .needsAction(
                    reason:
                        "rotation 7 is lost: ask the vendor's support for a new pair, then run `rotor app set billing --client-id ID --client-secret-stdin`"
                )
            ]),
        Row(
            name: "the new pair is verified", from: .rotated, to: .verified, attemptsAfter: 0, finished: false,
            tokenKept: true, audit: .rotationVerified),
        Row(
            name: "a failed verification backs off", from: .rotated, to: .failed, error: "verification failed",
            attemptsAfter: 1, nextAttemptAfter: now.addingTimeInterval(15), finished: false, tokenKept: true,
            audit: .rotationFailed),
        Row(
            name: "a failed verification is tried again", from: .failed, attempts: 3, to: .failed,
            error: "verification failed", attemptsAfter: 4, nextAttemptAfter: now.addingTimeInterval(120),
            finished: false, tokenKept: true, audit: .rotationFailed),
        Row(
            name: "a later verification succeeds", from: .failed, attempts: 3, to: .verified, attemptsAfter: 0,
            finished: false, tokenKept: true, audit: .rotationVerified),
        Row(
            name: "targets that still lack the version wait for their retry", from: .verified, to: .verified,
            error: "1 target(s) still lack version 2", nextAttemptAt: now.addingTimeInterval(30), attemptsAfter: 0,
            nextAttemptAfter: now.addingTimeInterval(30), finished: false, tokenKept: true),
        Row(
            name: "delivered: complete, and the old secret goes", from: .verified, to: .completed, attemptsAfter: 0,
            finished: true, tokenKept: false, audit: .rotationCompleted, effects: [.wipeSecret(version: 1)]),
        Row(
            name: "a lost rotation whose pair was spilled is open again", from: .lost, to: .rotated, toVersion: 2,
            attemptsAfter: 0, finished: false, tokenKept: true),
    ]

    static func record(_ row: Row) -> RotationRecord {
        var record = RotationRecord(
            id: 7, appID: 3, trigger: row.trigger, state: row.from, occurrenceDue: row.trigger == .schedule ? due : nil,
            occurrences: 1, authKind: .app, authToken: Data([1, 2, 3]), fromVersion: 1,
            toVersion: [.rotated, .verified, .failed].contains(row.from) ? 2 : nil, attempts: row.attempts,
            nextAttemptAt: row.attempts > 0 ? started : nil, error: "before", startedAt: started, updatedAt: started,
            finishedAt: row.from == .lost ? started : nil)
        record.refusal = row.refusal
        return record
    }

    @Test(arguments: rows)
    func eachMoveProducesWhatTheSpecSays(_ row: Row) throws {
        let before = Self.record(row)
        let move = try before.moved(
            to: row.to, error: row.error, app: "billing", at: Self.now, backoff: Self.backoff, random: Self.random,
            toVersion: row.toVersion, nextAttemptAt: row.nextAttemptAt)
        let after = move.record
        #expect(after.state == row.to)
        #expect(after.error == row.error)
        #expect(after.updatedAt == Self.now)
        #expect(after.attempts == row.attemptsAfter)
        #expect(after.nextAttemptAt == row.nextAttemptAfter)
        #expect(after.finishedAt == (row.finished ? Self.now : nil))
        #expect((after.authToken != nil) == row.tokenKept)
        #expect(after.toVersion == (row.toVersion ?? before.toVersion))
        // What a move never touches.
        #expect(after.id == before.id && after.appID == before.appID && after.startedAt == before.startedAt)
        #expect(after.fromVersion == before.fromVersion && after.trigger == before.trigger)
        #expect(move.audit?.action == row.audit)
        #expect(move.effects == row.effects)
        if let audit = move.audit {
            #expect(audit.app == "billing")
            #expect(audit.rotationID == 7)
            #expect(audit.detail["state"] == .string(row.to.rawValue))
            #expect(audit.detail["error"] == row.error.map { .string($0) })
            #expect(
                audit.outcome == (row.to == .verified || row.to == .completed ? .success : .failure),
                "\(audit.outcome)")
        }
    }

    @Test func everyMoveOfTheSpecIsInTheTable() {
        var allowed: Set<String> = []
        for from in RotationState.allCases {
            for to in from.successors { allowed.insert("\(from.rawValue)→\(to.rawValue)") }
        }
        let covered = Set(Self.rows.map { "\($0.from.rawValue)→\($0.to.rawValue)" })
        #expect(covered == allowed)
    }

    /// Moves `rotation.md` does not have: refused, and nothing is produced.
    @Test(arguments: [
        (RotationState.completed, RotationState.requesting), (.aborted, .rotated), (.rotated, .completed),
        (.requesting, .verified), (.requesting, .completed), (.lost, .requesting), (.verified, .failed),
        (.completed, .completed), (.failed, .rotated),
    ])
    func aMoveTheSpecDoesNotHaveIsRefused(from: RotationState, to: RotationState) throws {
        let record = Self.record(Row(name: "", from: from, to: to, attemptsAfter: 0, finished: false, tokenKept: true))
        let error = try #require(
            throws: RotorError.self,
            performing: {
                try record.moved(
                    to: to, error: nil, app: "billing", at: Self.now, backoff: Self.backoff, random: Self.random)
            })
        #expect(error.code == .databaseInvalid)
        #expect(error.message.contains("cannot move from \(from.rawValue) to \(to.rawValue)"))
    }
}
