import Foundation
import Logging
import Metrics

/// How one rotation ended for the command that ran it.
public struct RotationOutcome: Sendable, Equatable {
    public var app: String
    public var rotationID: Int64?
    /// nil when no rotation was started.
    public var state: RotationState?
    /// One or two sentences for a person: what happened and what to do.
    public var message: String
    public var exitStatus: ExitStatus
    /// How the vendor turned the rotation down, when it was aborted just now.
    public var retry: Refusal?
    /// When an unfinished rotation is worked on next.
    public var nextAttemptAt: Date?

    public init(
        app: String, rotationID: Int64?, state: RotationState?, message: String, exitStatus: ExitStatus,
        retry: Refusal? = nil, nextAttemptAt: Date? = nil
    ) {
        self.app = app
        self.rotationID = rotationID
        self.state = state
        self.message = message
        self.exitStatus = exitStatus
        self.retry = retry
        self.nextAttemptAt = nextAttemptAt
    }
}

/// Delivers a stored version to an app's targets (files, hooks). Returns
/// how many enabled targets still lack the version.
public protocol Deliverer: Sendable {
    /// `pair` is that version's pair when the caller holds it (nil: the stored one is read).
    func deliver(appID: Int64, version: Int, rotationID: Int64?, lease: Lease, pair: ClientPair?) async throws -> Int
}

/// The rotation state machine of `rotation.md`: intent before effect, store
/// before anything else, one rotation per app (a fenced lease), never
/// repeat rotate blindly, resumable steps, audit in the same transaction.
public struct RotationEngine: Sendable {
    public let ledger: Ledger
    public let api: any VendorAPI
    /// This process's lease owner name.
    public let owner: String
    /// The database path, beside which spill files are written.
    public let databasePath: String
    /// How long verification keeps trying before the rotation is `failed`.
    public var verification: RetryPolicy
    /// Backoff for the next attempt of an unfinished rotation.
    public var backoff: RetryPolicy
    public var leaseDuration: TimeInterval
    /// How long a rotate request may still be in flight after its intent was
    /// recorded: the vendor request timeout plus a margin. Until then a
    /// rotation whose process died is not concluded `aborted`.
    public var inFlightWindow: TimeInterval
    public var deliverer: (any Deliverer)?
    /// Runs when a rotation moves to `failed` or `lost`.
    public var alerts: AlertDispatcher?
    /// Each step at `debug` (`--verbose`); never a secret.
    public var logger = Logger(label: "rotor.engine")

    public init(
        ledger: Ledger, api: any VendorAPI, databasePath: String, owner: String = LeaseOwner.make(),
        verification: RetryPolicy = RetryPolicy(base: 1, cap: 10, deadline: 60, maxAttempts: 12),
        backoff: RetryPolicy = RetryPolicy(base: 30, cap: 3600, deadline: .infinity, maxAttempts: .max),
        leaseDuration: TimeInterval = Lease.appDuration, inFlightWindow: TimeInterval = 60,
        deliverer: (any Deliverer)? = nil,
        alerts: AlertDispatcher? = nil
    ) {
        self.ledger = ledger
        self.api = api
        self.databasePath = databasePath
        self.owner = owner
        self.verification = verification
        self.backoff = backoff
        self.leaseDuration = leaseDuration
        self.inFlightWindow = inFlightWindow
        self.deliverer = deliverer
        self.alerts = alerts
    }

    var identities: IdentityRegistry { IdentityRegistry(ledger: ledger, api: api) }

    // MARK: entry points

    /// `rotor rotate NAME`: authenticate, rotate, store, verify, deliver.
    public func rotate(
        _ name: String, trigger: RotationTrigger = .manual, occurrenceDue: Date? = nil, occurrences: Int = 1
    )
        async throws -> RotationOutcome
    {
        try await rotate(
            try await ledger.read { try AppRegistry.find(name, in: $0) }, trigger: trigger,
            occurrenceDue: occurrenceDue,
            occurrences: occurrences)
    }

    /// ``rotate(_:trigger:occurrenceDue:occurrences:)`` for an app already
    /// looked up; it is read again under the lease.
    public func rotate(
        _ named: AppRecord, trigger: RotationTrigger = .manual, occurrenceDue: Date? = nil, occurrences: Int = 1
    )
        async throws -> RotationOutcome
    {
        let outcome = try await withLease(named, reading: reader(for: named)) { lease, start in
            try await rotate(
                named, trigger: trigger, occurrenceDue: occurrenceDue, occurrences: occurrences, lease: lease,
                start: start)
        }
        // What the outcome reports is on disk before it is reported.
        try await ledger.flush()
        return outcome
    }

    /// A scheduled rotation for `occurrence`: it is claimed with the lease,
    /// consumed with the rotation's intent, and put back to be tried again
    /// later if the rotation stops before that. nil when it could not be
    /// claimed: another process has it, or a rotation of the app is unresolved.
    public func rotate(_ named: AppRecord, occurrence: OccurrenceRecord) async throws -> RotationOutcome? {
        try await withLease(named, claiming: occurrence, reading: reader(for: named)) { lease, start in
            try await rotate(
                named, trigger: .schedule, occurrenceDue: occurrence.due, occurrences: occurrence.covers,
                lease: lease, start: start)
        }
    }

    /// Reads what a rotation of `named` starts from, in the lease's transaction.
    private func reader(for named: AppRecord) -> @Sendable (any StoreReader) throws -> RotationStart {
        { [self] reader in try RotationStart.read(appID: named.id, in: reader, engine: self) }
    }

    func rotate(
        _ named: AppRecord, trigger: RotationTrigger, occurrenceDue: Date?, occurrences: Int, lease: Lease,
        start: RotationStart
    ) async throws -> RotationOutcome {
        let name = named.name
        guard let app = start.app else {
            throw RotorError(.notFound, "no app named \(UserText.shown(name)); see `rotor app list`")
        }
        if let open = start.open {
            return RotationOutcome(
                app: name, rotationID: open.id, state: open.state,
                message:
                    "rotation \(open.id) of \(name) is still \(open.state.rawValue); a new one is refused until it is resolved. Run `rotor run --once` to finish it",
                exitStatus: .failed)
        }
        let authorisation: (token: Secret, kind: RotationRecord.AuthKind)
        do {
            authorisation = try await authorise(app, pair: start.pair)
        } catch let error as AuthorisationFailure {
            let newlyNeedsAction = try await ledger.commit { tx in
                try tx.record(
                    AuditDraft(
                        .rotationFailed, outcome: .failure, app: name,
                        detail: ["stage": "authenticate", "error": .string(error.message)]))
                if let attention = error.attention {
                    return try Self.needsAction(app, reason: attention, tx: tx)
                }
                if let due = occurrenceDue {
                    try Self.retryOccurrence(
                        appID: app.id, due: due, refusal: .transient(retryAfter: nil), error: error.message,
                        rotationID: nil, tx: tx)
                }
                return false
            }
            if newlyNeedsAction, let attention = error.attention {
                await alerts?.send(
                    .init(
                        event: .needsAction, app: name, rotationID: nil, state: "needs-action", error: attention,
                        message: error.message))
            }
            return RotationOutcome(
                app: name, rotationID: nil, state: nil, message: error.message, exitStatus: error.exitStatus)
        }
        let record = try await recordIntent(
            app, trigger: trigger, token: authorisation.token, kind: authorisation.kind, lease: lease,
            occurrenceDue: occurrenceDue, occurrences: occurrences)
        Failpoint.hit("rotate.before-request")
        var rotation = RotationContext(app: app, lease: lease, record: record, currentPair: start.pair)
        try await request(&rotation, token: authorisation.token)
        return try await finish(&rotation, from: .requesting)
    }

    /// `rotor rotate NAME` by hand: like ``rotate(_:trigger:occurrenceDue:occurrences:)``,
    /// but a transient refusal (429, 5xx, no answer) is waited out
    /// (`Retry-After`, or a short backoff) and tried again, for up to
    /// `patience` seconds, before the command reports it.
    public func rotateByHand(_ name: String, patience: TimeInterval = 120) async throws -> RotationOutcome {
        let clock = ledger.clock
        let deadline = clock.now.addingTimeInterval(patience)
        var attempt = 0
        var outcome = try await rotate(name)
        while true {
            var wake: Date?
            switch outcome.retry {
            case .transient(let retryAfter)?:
                // Retry-After as the vendor gave it: past the patience, the command reports at once.
                let backoff = RetryPolicy.interactive.delay(
                    afterAttempt: attempt, retryAfter: nil, random: Double.random(in: 0.5..<1))
                wake = clock.now.addingTimeInterval(max(backoff, retryAfter ?? 0, 0.5))
            case nil:
                // A request that may still be in flight: ask again once it cannot be.
                wake = outcome.state == .requesting ? outcome.nextAttemptAt : nil
            case .clear?:
                wake = nil
            }
            guard let next = wake, next <= deadline else { return outcome }
            try await clock.sleep(until: next)
            attempt += 1
            if outcome.state == .requesting, let id = outcome.rotationID {
                outcome = try await resume(id)
                if outcome.state != .aborted { continue }
                if case .clear? = outcome.retry { return outcome }
            }
            outcome = try await rotate(name)
        }
    }

    /// Continues an unfinished rotation from wherever it stopped.
    public func resume(_ rotationID: Int64) async throws -> RotationOutcome {
        guard let record = try await ledger.read({ try $0.rotation(id: rotationID) }),
            let app = try await ledger.read({ try $0.app(id: record.appID) })
        else {
            throw RotorError(.notFound, "rotation \(rotationID) no longer exists")
        }
        return try await withLease(app) { lease in
            guard let current = try await ledger.read({ try $0.rotation(id: rotationID) }) else {
                throw RotorError(.notFound, "rotation \(rotationID) no longer exists")
            }
            var rotation = RotationContext(app: app, lease: lease, record: current)
            if current.state == .requesting {
                try await resolveRequesting(&rotation)
            }
            return try await finish(&rotation, from: current.state)
        }
    }

    /// Imports spill files (with `importingSpills`), then finishes or
    /// resolves the unfinished rotations: every one, or with `dueBy` those
    /// whose next attempt is due by then, while `proceed` says so. A rotation
    /// that cannot be carried on now becomes an outcome that says why.
    ///
    /// A rotation whose app another process holds is that process's work:
    /// reported as `failed` (exit 1), or with `skippingBusy` left out.
    public func resolveAll(
        dueBy: Date? = nil, importingSpills: Bool = true, skippingBusy: Bool = false,
        while proceed: () -> Bool = { true }
    ) async throws -> [RotationOutcome] {
        var outcomes = importingSpills ? try await importSpills() : []
        for record in try await ledger.read({ try $0.openRotations() }) where proceed() {
            if let dueBy, (record.nextAttemptAt ?? .distantPast) > dueBy { continue }
            do {
                outcomes.append(try await resume(record.id))
            } catch let error as RotorError where error.code == .busy && skippingBusy {
                continue
            } catch let error as RotorError {
                let name = try await ledger.read { try $0.app(id: record.appID)?.name } ?? "app \(record.appID)"
                outcomes.append(
                    RotationOutcome(
                        app: name, rotationID: record.id, state: record.state, message: error.message,
                        exitStatus: error.code == .busy ? .failed : error.exitStatus))
            }
        }
        return outcomes
    }

    // MARK: leases

    func withLease<T>(_ app: AppRecord, _ body: (Lease) async throws -> T) async throws -> T {
        // Without an occurrence to claim, nil cannot come back.
        guard
            let result = try await withLease(
                app, claiming: nil, reading: { _ in }, { lease, _ in try await body(lease) })
        else {
            throw RotorError(.busy, "\(app.name) could not be leased", exit: .failed)
        }
        return result
    }

    func withLease<T, Start: Sendable>(
        _ app: AppRecord, reading: @escaping @Sendable (any StoreReader) throws -> Start,
        _ body: (Lease, Start) async throws -> T
    ) async throws -> T {
        guard let result = try await withLease(app, claiming: nil, reading: reading, body) else {
            throw RotorError(.busy, "\(app.name) could not be leased", exit: .failed)
        }
        return result
    }

    /// Runs `body` under the app's lease, with what `reading` read in the
    /// transaction that took it. With `occurrence` (a due time) the lease
    /// comes with the claim on that occurrence, in one transaction; nil when
    /// it cannot be claimed (another process has, or a rotation of the app
    /// is unresolved). An occurrence the body did not consume (by recording a
    /// rotation's intent) goes back to pending with the release.
    func withLease<T, Start: Sendable>(
        _ app: AppRecord, claiming occurrence: OccurrenceRecord?,
        reading: @escaping @Sendable (any StoreReader) throws -> Start, _ body: (Lease, Start) async throws -> T
    ) async throws -> T? {
        let appID = app.id
        let claim: @Sendable (any StoreWriter) throws -> Start = { writer in
            if let occurrence {
                guard try writer.unresolvedRotation(appID: appID) == nil,
                    try writer.claimOccurrence(occurrence)
                else { throw NotClaimed() }
            }
            return try reading(writer)
        }
        // An occurrence the body did not consume goes back to pending, to be tried again later.
        let clock = ledger.clock
        let skip: @Sendable (any StoreWriter) throws -> Void = { writer in
            guard let occurrence, let stored = try writer.occurrence(appID: appID, due: occurrence.due),
                stored.state == .started
            else { return }
            let wait = Planner.refusalBackoff.delay(
                afterAttempt: stored.attempts, retryAfter: nil, random: Double.random(in: 0..<1))
            try writer.retryOccurrence(
                appID: appID, due: occurrence.due, retryAt: clock.now.addingTimeInterval(max(wait, 1)),
                error: "the rotation stopped before it began", rotationID: nil)
        }
        let result: T?
        do {
            result = try await ledger.withLease(
                Lease.app(app.id), owner: owner, duration: leaseDuration, reading: claim, releasing: skip, body)
        } catch is NotClaimed {
            return nil
        }
        guard let result else {
            let holder = try await ledger.read { try $0.lease(Lease.app(appID)) }
            throw RotorError(
                .busy,
                "another process (\(holder?.owner ?? "unknown")) is working on \(app.name); try again when it has finished",
                exit: .failed)
        }
        return result
    }

    /// `rotor_rotations_total{app,outcome}`: a rotation that ended
    /// (`completed`, `aborted`, `failed`, `lost`) or whose lost answer was
    /// recovered (`recovered`).
    static func count(_ app: String, outcome: String) {
        Counter(label: "rotor_rotations_total", dimensions: [("app", app), ("outcome", outcome)]).increment()
    }

    /// Carries a rotation from `rotated` or later to its end, as far as it goes now.
    /// Alert hooks run when the rotation moved from `initial` into `failed` or `lost`.
    /// `app` gives the fields a rotation does not change (id, name, URL, IDs).
    func finish(_ rotation: inout RotationContext, from initial: RotationState) async throws -> RotationOutcome {
        if rotation.record.state == .rotated || rotation.record.state == .failed {
            try await verify(&rotation)
        }
        if rotation.record.state == .verified {
            try await deliver(&rotation)
        }
        let (record, app) = (rotation.record, rotation.app)
        let result = outcome(record, app: app)
        if record.state != initial {
            if [.completed, .aborted, .failed, .lost].contains(record.state) {
                Self.count(app.name, outcome: record.state.rawValue)
            }
            if let finished = record.finishedAt {
                Metrics.Timer(label: "rotor_rotation_duration_seconds", preferredDisplayUnit: .seconds)
                    .recordNanoseconds(Int64(finished.timeIntervalSince(record.startedAt) * 1e9))
            }
        }
        let event: AlertEvent? =
            switch record.state {
            case .failed where record.state != initial: .failed
            case .lost where record.state != initial: .lost
            case .completed where record.state != initial: .completed
            case .aborted where record.refusal == .clear && app.attention == nil: .needsAction
            default: nil
            }
        if let alerts, let event {
            await alerts.send(
                .init(
                    event: event, app: result.app, rotationID: record.id,
                    state: event == .needsAction ? "needs-action" : record.state.rawValue, error: record.error,
                    message: result.message))
        }
        return result
    }

    func outcome(_ record: RotationRecord, app: AppRecord?) -> RotationOutcome {
        let name = app?.name ?? "app \(record.appID)"
        let reason = record.error.map { " (\($0))" } ?? ""
        let message: String
        let exit: ExitStatus
        switch record.state {
        case .completed:
            message =
                "rotated \(name): version \(record.fromVersion) → \(record.toVersion ?? 0), verified and delivered"
            exit = .success
        case .aborted:
            switch record.refusal {
            case .clear?:
                message =
                    "\(name) was not rotated\(reason); the stored pair still works. The vendor refused: scheduled rotation of \(name) waits until the cause is fixed and `rotor rotate \(name)` succeeds"
            case .transient?:
                message =
                    "\(name) was not rotated\(reason); the stored pair still works\(record.trigger == .schedule ? " and the rotation is tried again with backoff" : "")"
            case nil:
                message = "\(name) was not rotated\(reason); the stored pair still works"
            }
            // A clear refusal leaves the app needing an operator: exit 4, as everywhere that meets it.
            exit = record.refusal == .clear ? .operatorAction : .failed
        case .rotated, .verified, .failed:
            let step = record.state == .verified ? "delivery" : "verification"
            message =
                "\(name) was rotated and the new pair is stored (version \(record.toVersion ?? 0)), but \(step) is not done yet\(reason); `rotor run` keeps retrying"
            exit = .pending
        case .requesting where record.error == Self.inFlightNote:
            let when = record.nextAttemptAt.map { " after \(RFC3339.format($0))" } ?? ""
            message =
                "rotation \(record.id) of \(name) is unresolved: the stored pair still works, but its rotate request may still be in flight. It is checked again\(when) by `rotor run`; do not rotate by other means meanwhile"
            exit = .pending
        case .requesting:
            message =
                "the outcome of rotation \(record.id) of \(name) is unknown\(reason): the vendor may already have rotated. Run `rotor run --once` when the vendor is reachable; do not rotate by other means meanwhile"
            exit = .operatorAction
        case .lost:
            message =
                "rotation \(record.id) of \(name) is lost: the vendor rotated, the new pair could not be obtained and no valid token is left to rotate again. Ask the vendor's support for a new pair for application \(app?.applicationID ?? "?"), then run `rotor app set \(name) --client-id ID --client-secret-stdin`"
            exit = .operatorAction
        }
        return RotationOutcome(
            app: name, rotationID: record.id, state: record.state, message: message, exitStatus: exit,
            retry: record.refusal, nextAttemptAt: record.nextAttemptAt)
    }

    /// The error of a rotation that waits out the in-flight window.
    static let inFlightNote = "its rotate request may still be in flight"
}

/// The occurrence could not be claimed with the lease.
struct NotClaimed: Error {}

/// The rotate request was never sent: no token could be had.
struct AuthorisationFailure: Error {
    var message: String
    var exitStatus: ExitStatus
    /// Set when the app needs an operator: the one-line reason with the fix.
    var attention: String?
}
