import Foundation
import Logging

extension RotationEngine {
    // MARK: authenticate

    /// The token that will authorise the rotate request: the identity's when
    /// the app has one, otherwise a client-credentials grant with the stored pair.
    /// `pair` is the stored pair when the caller has read it already.
    func authorise(_ app: AppRecord, pair: ClientPair? = nil) async throws -> (
        token: Secret, kind: RotationRecord.AuthKind
    ) {
        if let identityID = app.identityID {
            do {
                return (try await identities.accessToken(identityID: identityID), .identity)
            } catch let error as RotorError {
                throw AuthorisationFailure(
                    message: "could not get a token for \(app.name)'s identity: \(error.message); nothing was rotated",
                    exitStatus: .failed)
            }
        }
        let stored: ClientPair
        if let pair { stored = pair } else { stored = try await currentPair(app) }
        do {
            let token = try await api.clientCredentialsGrant(
                apiURL: app.apiURL, clientID: stored.clientID, secret: stored.secret)
            return (token.token, .app)
        } catch  where error.kind == .invalidCredentials {
            throw AuthorisationFailure(
                message:
                    "the vendor rejects the stored pair of \(app.name) (version \(app.currentVersion)): it was changed outside Rotor. Nothing was rotated. Get the current pair from the vendor's support and run `rotor app set \(app.name) --client-id ID --client-secret-stdin`, or give the app an identity (`rotor app set \(app.name) --identity NAME`) and rotate again",
                exitStatus: .operatorAction,
                attention:
                    "the vendor rejects the stored pair (version \(app.currentVersion)): changed outside Rotor; run `rotor app set \(app.name) --client-id ID --client-secret-stdin`"
            )
        } catch {
            throw AuthorisationFailure(
                message: "could not authenticate \(app.name) with the vendor (\(error)); nothing was rotated",
                exitStatus: .failed)
        }
    }

    func currentPair(_ app: AppRecord) async throws -> ClientPair {
        try await ledger.read { try currentPair(app, in: $0) }
    }

    func currentPair(_ app: AppRecord, in reader: any StoreReader) throws -> ClientPair {
        let credential = try AppRegistry.currentCredential(of: app, in: reader)
        guard let sealed = credential.sealedSecret else {
            throw RotorError(.databaseInvalid, "the current secret of \(app.name) is missing; restore from a backup")
        }
        return ClientPair(
            clientID: credential.clientID,
            secret: try ledger.keyring.open(sealed, for: .clientSecret(appID: app.id, version: credential.version)))
    }

    // MARK: intent

    /// Invariant 1: before the request leaves, a durable record names the
    /// rotation and holds the sealed token that authorises it.
    func recordIntent(
        _ app: AppRecord, trigger: RotationTrigger, token: Secret, kind: RotationRecord.AuthKind, lease: Lease,
        occurrenceDue: Date?, occurrences: Int
    ) async throws -> RotationRecord {
        try await ledger.commit { tx in
            try tx.fence(lease)
            guard let current = try tx.store.app(id: app.id), current.currentVersion == app.currentVersion else {
                throw RotorError(.busy, "\(app.name) changed while the rotation was starting; try again", exit: .failed)
            }
            let record = try tx.store.insertRotation(
                NewRotation(
                    appID: app.id, trigger: trigger, fromVersion: app.currentVersion, authKind: kind,
                    occurrenceDue: occurrenceDue, occurrences: occurrences),
                at: tx.now
            ) { id in try tx.keyring.seal(token, for: .rotationAuth(rotationID: id)) }
            let id = record.id
            // A scheduled rotation consumes its occurrence here, with the intent:
            // only a claimed occurrence can be, so no due time is rotated twice.
            if let occurrenceDue,
                try !tx.store.finishOccurrence(appID: app.id, due: occurrenceDue, state: .done, rotationID: id)
            {
                throw RotorError(
                    .busy, "the occurrence of \(app.name) due \(RFC3339.format(occurrenceDue)) was already handled",
                    exit: .failed)
            }
            var detail: [String: JSONValue] = [
                "trigger": .string(trigger.rawValue), "from_version": .int(Int64(app.currentVersion)),
                "auth": .string(kind.rawValue),
            ]
            if occurrences > 1 { detail["occurrences"] = .int(Int64(occurrences)) }
            if let occurrenceDue { detail["due"] = .string(RFC3339.format(occurrenceDue)) }
            try tx.record(AuditDraft(.rotationStarted, app: app.name, rotationID: id, detail: detail))
            return record
        }
    }

    // MARK: rotate

    /// Sends rotate once. A clear refusal aborts; a pair is stored; anything
    /// ambiguous is resolved by asking the vendor what it did.
    func request(_ rotation: inout RotationContext, token: Secret) async throws {
        let app = rotation.app
        do {
            let pair = try await api.rotateCredentials(
                apiURL: app.apiURL, token: token, applicationID: app.applicationID)
            Failpoint.hit("rotate.after-answer")
            try await store(pair, in: &rotation, source: .rotated)
        } catch let error as VendorError {
            switch error.kind {
            case .forbidden, .notFound, .badRequest, .invalidCredentials:
                rotation.record.refusal = .clear
                try await transition(&rotation, to: .aborted, error: error.description)
            case .invalidToken, .expiredToken:
                rotation.record.refusal = .transient(retryAfter: nil)
                try await transition(&rotation, to: .aborted, error: error.description)
            case .rateLimited, .serverError, .malformedAnswer:
                // The vendor answered: this request is over, whatever it did.
                rotation.record.error = "the rotate answer was lost: \(error)"
                try await resolveRequesting(&rotation, answered: true, retryAfter: error.retryAfter)
            case .networkError:
                // No answer: the request may still be on its way to the vendor.
                rotation.record.error = "the rotate answer was lost: \(error)"
                try await resolveRequesting(&rotation)
            }
        }
    }

    // MARK: store

    /// Invariant 2: the new pair is committed (encrypted) and synced to disk
    /// before anything else happens to it; then it is the context's `newPair`.
    /// If that commit fails, the pair is sealed into a spill file and the
    /// command stops with exit 4.
    func store(_ answer: RotatedPair, in rotation: inout RotationContext, source: CredentialRecord.Source)
        async throws
    {
        let app = rotation.app
        let (record, lease, pair) = (rotation.record, rotation.lease, answer.pair)
        do {
            // Returns once it is on disk: nothing goes on before.
            rotation.record = try await ledger.commit { tx in
                try tx.fence(lease)
                return try storeRotatedPair(pair, for: record, source: source, tx: tx)
            }
            rotation.newPair = pair
        } catch {
            let spill = SpillFile(
                rotationID: record.id, appID: app.id, applicationID: app.applicationID, clientID: pair.clientID,
                clientSecret: pair.secret)
            do {
                try spill.write(database: databasePath, keyring: ledger.keyring)
            } catch {
                throw RotorError(
                    .io,
                    "the vendor rotated \(app.name) but its new pair could neither be stored nor spilled (\(error)); the pair is lost: ask the vendor's support for a new pair, then `rotor app set \(app.name) --client-id ID --client-secret-stdin`",
                    exit: .operatorAction)
            }
            let path = SpillFile.path(database: databasePath, rotationID: record.id)
            throw RotorError(
                .io,
                "the vendor rotated \(app.name) but the database did not take the new pair (\(error)); it is sealed in \(path). Make the database writable and run `rotor run --once` to import it; do not delete that file",
                exit: .operatorAction)
        }
    }

    /// Stores `pair` as the app's next version and moves the rotation to
    /// `rotated`, with the stored version's audit event, inside `tx`.
    func storeRotatedPair(
        _ pair: ClientPair, for record: RotationRecord, source: CredentialRecord.Source, tx: LedgerTransaction
    ) throws -> RotationRecord {
        guard var app = try tx.store.app(id: record.appID) else {
            throw RotorError(.notFound, "the app of rotation \(record.id) was removed")
        }
        let stored = try tx.storeNextVersion(pair, of: &app, source: source, rotationID: record.id)
        let rotated = try move(record, through: [.rotated], app: app, tx: tx, toVersion: stored.version)
        try tx.record(
            AuditDraft(
                source == .recovered ? .rotationRecovered : .rotationRotated, app: app.name, rotationID: record.id,
                detail: [
                    "version": .int(Int64(stored.version)), "client_id": .string(pair.clientID),
                    "fingerprint": .string(stored.fingerprint),
                    "previous_fingerprint": .optional(stored.previous?.fingerprint),
                    "source": .string(source.rawValue),
                ]))
        return rotated
    }

    // MARK: verify

    /// A client-credentials grant with the new pair, then validate on that
    /// token, retried patiently. When the budget runs out the rotation is
    /// `failed` (it never reverts) and a later run tries again. The new pair
    /// is the one in hand, or read when this process did not store it.
    func verify(_ rotation: inout RotationContext) async throws {
        Failpoint.hit("rotate.before-verify")
        let app = rotation.app
        guard let version = rotation.record.toVersion else {
            throw RotorError(.databaseInvalid, "rotation \(rotation.record.id) has no new version to verify")
        }
        let pair: ClientPair
        if let newPair = rotation.newPair {
            pair = newPair
        } else {
            pair = try await ledger.read { [ledger] reader in
                guard let credential = try reader.credential(appID: app.id, version: version),
                    let sealed = credential.sealedSecret
                else { throw RotorError(.databaseInvalid, "version \(version) of \(app.name) is missing") }
                return ClientPair(
                    clientID: credential.clientID,
                    secret: try ledger.keyring.open(sealed, for: .clientSecret(appID: app.id, version: version)))
            }
            rotation.newPair = pair
        }
        let start = ledger.clock.now
        var attempt = 0
        var lastError = ""
        while true {
            do {
                let token = try await api.clientCredentialsGrant(
                    apiURL: app.apiURL, clientID: pair.clientID, secret: pair.secret)
                if try await api.validate(apiURL: app.apiURL, token: token.token) {
                    return try await verified(&rotation)
                }
                lastError = "the vendor does not accept the token the new pair was granted"
            } catch {
                lastError = "\(error)"
            }
            attempt += 1
            let wait = verification.delay(afterAttempt: attempt - 1, retryAfter: nil, random: Double.random(in: 0..<1))
            let next = ledger.clock.now.addingTimeInterval(wait)
            if attempt >= verification.maxAttempts || next.timeIntervalSince(start) > verification.deadline {
                break
            }
            try await ledger.clock.sleep(until: next)
        }
        try await transition(&rotation, to: .failed, error: "verification failed: \(lastError)")
    }

    // MARK: deliver

    /// Every enabled target gets the new version; then the rotation is complete.
    func deliver(_ rotation: inout RotationContext) async throws {
        let (app, lease, record) = (rotation.app, rotation.lease, rotation.record)
        guard let version = record.toVersion else {
            throw RotorError(.databaseInvalid, "rotation \(record.id) has no new version to deliver")
        }
        if let deliverer {
            let pending = try await deliverer.deliver(
                appID: app.id, version: version, rotationID: record.id, lease: lease, pair: rotation.newPair)
            if pending > 0 {
                rotation.record = try await ledger.commit { tx in
                    try tx.fence(lease)
                    // Not before the earliest retry of a failed target: a failing hook never spins.
                    return try move(
                        record, through: [.verified], error: "\(pending) target(s) still lack version \(version)",
                        app: app, tx: tx,
                        nextAttemptAt: try tx.store.nextDeliveryAttempt(appID: app.id, version: version))
                }
                return
            }
        }
        try await transition(&rotation, to: .completed, error: nil)
    }

    // MARK: transitions

    /// Moves the rotation to `state` in one fenced transaction (see ``move(_:through:error:app:tx:toVersion:nextAttemptAt:)``).
    func transition(
        _ rotation: inout RotationContext, to state: RotationState, error: String?, nextAttemptAt: Date? = nil
    ) async throws {
        let (record, lease, app) = (rotation.record, rotation.lease, rotation.app)
        rotation.record = try await ledger.commit { tx in
            try tx.fence(lease)
            return try move(record, through: [state], error: error, app: app, tx: tx, nextAttemptAt: nextAttemptAt)
        }
    }

    /// Moves `record` through `states` in turn inside `tx` (``RotationRecord/moved(to:error:app:at:backoff:random:toVersion:nextAttemptAt:)``
    /// decides each move), carries out each move's effects and records its
    /// event, and stores the rotation once, as it ends.
    func move(
        _ record: RotationRecord, through states: [RotationState], error: String? = nil, app: AppRecord,
        tx: LedgerTransaction, toVersion: Int? = nil, nextAttemptAt: Date? = nil
    ) throws -> RotationRecord {
        var current = record
        for state in states {
            let transition = try current.moved(
                to: state, error: error, app: app.name, at: tx.now, backoff: backoff,
                random: Double.random(in: 0.5..<1), toVersion: toVersion, nextAttemptAt: nextAttemptAt)
            for effect in transition.effects {
                switch effect {
                case .needsAction(let reason):
                    _ = try Self.needsAction(app, reason: reason, tx: tx)
                case .retryOccurrence(let due, let refusal, let error):
                    try Self.retryOccurrence(
                        appID: app.id, due: due, refusal: refusal, error: error, rotationID: record.id, tx: tx)
                case .wipeSecret(let version):
                    try tx.store.wipeSecret(appID: app.id, version: version)
                }
            }
            if let audit = transition.audit { try tx.record(audit) }
            logger.debug(
                "rotation moved",
                metadata: [
                    "app": "\(app.name)", "rotation": .stringConvertible(current.id),
                    "from": "\(current.state.rawValue)", "to": "\(transition.record.state.rawValue)",
                ])
            current = transition.record
        }
        try tx.store.updateRotation(current)
        return current
    }

    /// Marks `app` as needing an operator, with the reason and its fix, and
    /// audits it. True when it was not marked before (alerts fire once).
    static func needsAction(_ app: AppRecord, reason: String, tx: LedgerTransaction) throws -> Bool {
        guard var current = try tx.store.app(id: app.id), current.attention == nil else { return false }
        current.attention = Attention(reason: reason, since: tx.now)
        try tx.store.updateApp(current)
        try tx.record(
            AuditDraft(.appNeedsAction, outcome: .failure, app: app.name, detail: ["reason": .string(reason)]))
        return true
    }

    /// Puts a scheduled rotation's occurrence back to pending after a
    /// transient refusal, not before its backoff (`Retry-After` honoured).
    static func retryOccurrence(
        appID: Int64, due: Date, refusal: Refusal, error: String, rotationID: Int64?, tx: LedgerTransaction
    ) throws {
        guard case .transient(let retryAfter) = refusal else { return }
        let attempts = try tx.store.occurrence(appID: appID, due: due)?.attempts ?? 0
        let wait = Planner.refusalBackoff.delay(
            afterAttempt: attempts, retryAfter: retryAfter, random: Double.random(in: 0..<1))
        try tx.store.retryOccurrence(
            appID: appID, due: due, retryAt: tx.now.addingTimeInterval(max(wait, 1)), error: error,
            rotationID: rotationID)
    }

    /// `verified`, and in the same transaction `completed` when there is
    /// nothing to deliver (no enabled target).
    ///
    /// The commit does not wait for the disk: if a power cut loses it, the
    /// rotation is `rotated` again, and the next run verifies (and delivers)
    /// once more. The new pair itself was durable before verification began.
    func verified(_ rotation: inout RotationContext) async throws {
        let (record, lease, app) = (rotation.record, rotation.lease, rotation.app)
        rotation.record = try await ledger.commit(durable: false) { tx in
            try tx.fence(lease)
            let targets = deliverer == nil ? [] : try tx.store.targets(appID: app.id).filter(\.enabled)
            let states: [RotationState] = targets.isEmpty ? [.verified, .completed] : [.verified]
            return try move(record, through: states, app: app, tx: tx)
        }
    }
}
