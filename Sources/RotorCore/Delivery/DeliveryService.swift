import Foundation
import Metrics

/// Delivers a stored version to an app's targets and keeps the state of
/// every (target, version) pair: retried with exponential backoff and
/// jitter, never an older version after a newer one, alert hooks once the
/// retry budget is spent (and retrying continues at the capped interval).
public struct DeliveryService: Deliverer {
    public let ledger: Ledger
    public let spawner: any ProcessSpawner
    /// Sends webhook targets' requests; without one, a webhook target fails with a clear error.
    public var webhooks: (any WebhookPoster)?
    /// About 30 s, doubling, full jitter, capped at 1 h (`rotation.md`, "Failing deliveries back off").
    public static let standardBackoff = RetryPolicy(base: 30, cap: 3600, deadline: .infinity, maxAttempts: .max)
    public var backoff: RetryPolicy
    /// Failed attempts before the alert hooks run.
    public var budget: Int
    public var alerts: AlertDispatcher { AlertDispatcher(ledger: ledger, spawner: spawner, webhooks: webhooks) }

    public init(
        ledger: Ledger, spawner: any ProcessSpawner = HookRunner(), webhooks: (any WebhookPoster)? = nil,
        backoff: RetryPolicy = DeliveryService.standardBackoff, budget: Int = 5
    ) {
        self.ledger = ledger
        self.spawner = spawner
        self.webhooks = webhooks
        self.backoff = backoff
        self.budget = budget
    }

    /// One target's result.
    public struct TargetOutcome: Sendable {
        public var target: TargetRecord
        public var state: DeliveryRecord.State
        public var detail: String
    }

    public func deliver(appID: Int64, version: Int, rotationID: Int64?, lease: Lease, pair: ClientPair?)
        async throws -> Int
    {
        try await deliverAll(
            appID: appID, version: version, rotationID: rotationID, lease: lease, force: false,
            dueBy: ledger.clock.now, pair: pair
        )
        .filter { $0.state != .succeeded && $0.state != .superseded }.count
    }

    /// Delivers `version` to every enabled target of the app. Targets that
    /// already have it are skipped unless `force` (`rotor publish`); with
    /// `dueBy`, so are failed ones whose next attempt is later than that.
    /// The app's current version to its enabled targets, under the app's
    /// lease: with `force` to every one again (`rotor publish`), otherwise to
    /// those that lack it and whose retry is due by `dueBy`. nil when another
    /// process holds the app.
    public func deliverCurrent(
        appID: Int64, owner: String, leaseDuration: TimeInterval, force: Bool, dueBy: Date?
    ) async throws -> [TargetOutcome]? {
        try await ledger.withLease(Lease.app(appID), owner: owner, duration: leaseDuration) { lease in
            // Read under the lease: no rotation moves the version meanwhile.
            let (version, rotationID) = try await ledger.read { reader in
                guard let app = try reader.app(id: appID) else {
                    throw RotorError(.notFound, "app \(appID) was removed")
                }
                return (
                    app.currentVersion, try reader.credential(appID: appID, version: app.currentVersion)?.rotationID
                )
            }
            return try await deliverAll(
                appID: appID, version: version, rotationID: rotationID, lease: lease, force: force, dueBy: dueBy)
        }
    }

    /// `pair` is the version's pair when the caller holds it; without it, the
    /// stored one is opened.
    public func deliverAll(
        appID: Int64, version: Int, rotationID: Int64?, lease: Lease, force: Bool, dueBy: Date? = nil,
        pair: ClientPair? = nil
    ) async throws -> [TargetOutcome] {
        let (app, targets, document) = try await ledger.read { [ledger] reader in
            guard let app = try reader.app(id: appID),
                let credential = try reader.credential(appID: appID, version: version),
                let sealed = credential.sealedSecret
            else { throw RotorError(.notFound, "version \(version) of app \(appID) is not stored") }
            let secret =
                try pair.map(\.secret)
                ?? ledger.keyring.open(sealed, for: .clientSecret(appID: appID, version: version))
            return (
                app, try reader.targets(appID: appID).filter(\.enabled),
                DeliveryDocument(
                    app: app.name, applicationID: app.applicationID, clientID: credential.clientID,
                    clientSecret: secret, version: version, rotatedAt: credential.createdAt,
                    fingerprint: credential.fingerprint)
            )
        }
        var outcomes: [TargetOutcome] = []
        for target in targets {
            let (latest, existing) = try await ledger.read {
                (
                    try $0.latestDeliveredVersion(targetID: target.id),
                    try $0.delivery(targetID: target.id, version: version)
                )
            }
            if let latest, latest > version {
                var superseded =
                    existing
                    ?? DeliveryRecord(targetID: target.id, version: version, rotationID: rotationID, state: .superseded)
                superseded.state = .superseded
                try await ledger.commit { [superseded] tx in
                    try tx.fence(lease)
                    try tx.store.saveDelivery(superseded)
                }
                outcomes.append(
                    TargetOutcome(target: target, state: .superseded, detail: "it already has version \(latest)"))
                continue
            }
            if let existing, existing.state == .succeeded, !force {
                outcomes.append(TargetOutcome(target: target, state: .succeeded, detail: "already delivered"))
                continue
            }
            if let existing, !force, let dueBy, let next = existing.nextAttemptAt, next > dueBy {
                outcomes.append(
                    TargetOutcome(
                        target: target, state: existing.state,
                        detail: "waiting until \(RFC3339.format(next)) to try again (\(existing.lastError ?? "failed"))"
                    ))
                continue
            }
            outcomes.append(
                try await attempt(
                    target, app: app, document: document, rotationID: rotationID ?? existing?.rotationID,
                    existing: existing, lease: lease))
        }
        return outcomes
    }

    func attempt(
        _ target: TargetRecord, app: AppRecord, document: DeliveryDocument, rotationID: Int64?,
        existing: DeliveryRecord?, lease: Lease
    ) async throws -> TargetOutcome {
        var output: String?
        var failure: String?
        var detail = ""
        switch target.kind {
        case .file(let file):
            do {
                let outcome = try FileWriter.write(document.bytes(for: file), to: file)
                detail = outcome == .unchanged ? "already held this version" : "written"
            } catch {
                failure = error.message
            }
        case .exec(let exec):
            var environment = HookRunner.baseEnvironment
            environment["ROTOR_APP"] = app.name
            environment["ROTOR_APPLICATION_ID"] = app.applicationID
            environment["ROTOR_VERSION"] = String(document.version)
            environment["ROTOR_ROTATION_ID"] = rotationID.map(String.init) ?? ""
            if exec.passEnvironment {
                environment["ROTOR_CLIENT_ID"] = document.clientID
                environment["ROTOR_CLIENT_SECRET"] = document.clientSecret.reveal()
            }
            Failpoint.hit("deliver.before-hook")
            do {
                let result = try await spawner.run(
                    command: exec.command, stdin: document.json, environment: environment, timeout: exec.timeout,
                    mask: [document.clientSecret.reveal()])
                output = result.output.isEmpty ? nil : result.output
                failure = result.failure.map { "the hook \($0)" }
                detail = "the hook exited 0"
            } catch let error as RotorError {
                failure = error.message
            }
        case .webhook(let webhook):
            do {
                let status = try await post(document, to: webhook, target: target)
                if (200..<300).contains(status) {
                    detail = "the receiver answered \(status)"
                } else {
                    failure = "the receiver answered HTTP \(status)"
                }
            } catch let error as RotorError {
                failure = error.message
            }
        }
        var record =
            existing
            ?? DeliveryRecord(targetID: target.id, version: document.version, rotationID: rotationID, state: .pending)
        record.rotationID = rotationID ?? record.rotationID
        record.attempts += 1
        record.output = output
        if failure == nil, let check = target.check {
            (record.confirmedAt, record.checkError) = await confirm(check, document: document)
            if record.checkError == nil { detail += "; the consumer check passed" }
        }
        let alertNow: Bool
        let saved: DeliveryRecord = try await ledger.commit { [record, failure] tx in
            var record = record
            try tx.fence(lease)
            record.lastAttemptAt = tx.now
            record.lastError = failure
            if failure == nil {
                record.state = .succeeded
                record.nextAttemptAt = nil
            } else {
                record.state = .failed
                record.nextAttemptAt = tx.now.addingTimeInterval(
                    max(
                        1,
                        backoff.delay(
                            afterAttempt: record.attempts - 1, retryAfter: nil, random: Double.random(in: 0..<1))))
            }
            try tx.store.saveDelivery(record)
            var auditDetail: [String: JSONValue] = [
                "target_id": .int(target.id), "target": .string(target.summary),
                "version": .int(Int64(document.version)),
                "attempt": .int(Int64(record.attempts)),
            ]
            if let failure { auditDetail["error"] = .string(failure) }
            try tx.record(
                AuditDraft(
                    failure == nil ? .deliverySucceeded : .deliveryFailed,
                    outcome: failure == nil ? .success : .failure,
                    app: app.name, rotationID: rotationID, detail: auditDetail))
            return record
        }
        Counter(label: "rotor_deliveries_total", dimensions: [("app", app.name), ("outcome", saved.state.rawValue)])
            .increment()
        alertNow = saved.state == .failed && saved.attempts >= budget && !saved.alerted
        if alertNow {
            await alerts.send(
                .init(
                    event: .deliveryFailed, app: app.name, rotationID: rotationID, state: "failed", error: failure,
                    message:
                        "target \(target.id) of \(app.name) has failed \(saved.attempts) times (\(failure ?? "failed")); Rotor keeps retrying, see `rotor target list \(app.name)`",
                    target: target.summary))
            try await ledger.commit { tx in
                var alerted = saved
                alerted.alerted = true
                try tx.store.saveDelivery(alerted)
            }
        }
        if let checkError = saved.checkError, saved.state == .succeeded {
            await alerts.send(
                .init(
                    event: .checkFailed, app: app.name, rotationID: rotationID, state: "delivered", error: checkError,
                    message:
                        "target \(target.id) of \(app.name) received version \(document.version), but its consumer check \(checkError); see `rotor target list \(app.name)`",
                    target: target.summary))
        }
        return TargetOutcome(
            target: target, state: saved.state,
            detail: failure ?? saved.checkError.map { "\(detail); the consumer check \($0)" } ?? detail)
    }

    /// Runs a consumer check until it exits 0 or its time is up, a second
    /// apart at first and doubling up to 15 s: when it passed, or why not.
    /// It gets `ROTOR_APP`, `ROTOR_VERSION`, `ROTOR_CLIENT_ID` (not a secret: listings show it) and
    /// `ROTOR_FINGERPRINT`, never the client secret.
    func confirm(_ check: ConsumerCheck, document: DeliveryDocument) async -> (Date?, String?) {
        var environment = HookRunner.baseEnvironment
        environment["ROTOR_APP"] = document.app
        environment["ROTOR_VERSION"] = String(document.version)
        environment["ROTOR_FINGERPRINT"] = document.fingerprint
        environment["ROTOR_CLIENT_ID"] = document.clientID
        let clock = ledger.clock
        let deadline = clock.now.addingTimeInterval(check.timeout)
        var wait: TimeInterval = 1
        var last = "did not run"
        while true {
            let left = deadline.timeIntervalSince(clock.now)
            do {
                let result = try await spawner.run(
                    command: check.command, stdin: [], environment: environment, timeout: max(1, min(30, left)),
                    mask: [document.clientSecret.reveal()])
                if result.succeeded { return (clock.now, nil) }
                last = result.failure ?? "failed"
            } catch {
                last = "could not run (\(error))"
            }
            let next = clock.now.addingTimeInterval(wait)
            guard next < deadline else { break }
            try? await clock.sleep(until: next)
            wait = min(wait * 2, 15)
        }
        return (nil, "did not pass within \(DurationText.format(Int64(check.timeout))) (it \(last))")
    }

    /// POSTs the `json` document to a webhook target, signed when it has a
    /// key file; the status it answered. Errors name the target, never a secret.
    func post(_ document: DeliveryDocument, to webhook: WebhookTarget, target: TargetRecord) async throws -> Int {
        guard let webhooks else {
            throw RotorError(.io, "this rotor cannot send webhooks here; run `rotor publish` or `rotor run`")
        }
        let body = document.json
        var headers = try WebhookRequest.standardHeaders(for: body, secretFile: webhook.secretFile)
        if let box = webhook.sealedHeaders {
            let lines = try ledger.keyring.open(box, for: .targetHeaders(targetID: target.id)).reveal()
            headers += try WebhookRequest.headers(lines.split(separator: "\n").map(String.init))
        }
        headers.append(("X-Rotor-App", document.app))
        headers.append(("X-Rotor-Version", String(document.version)))
        return try await webhooks.post(url: webhook.url, headers: headers, body: body, timeout: webhook.timeout)
    }
}
