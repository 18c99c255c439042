import Foundation

extension RotationEngine {
    // MARK: authenticate

    /// The token that will authorise the rotate request: the identity's when
    /// the app has one, otherwise a client-credentials grant with the stored pair.
    /// `pair` is the stored pair when the caller has read it already.
    func authorise(_ app: AppRecord, pair: (String, Secret)? = nil) async throws -> (
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
        let (clientID, secret) = try pair ?? currentPair(app)
        do {
            let token = try await api.clientCredentialsGrant(apiURL: app.apiURL, clientID: clientID, secret: secret)
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

    func currentPair(_ app: AppRecord) throws -> (String, Secret) {
        try ledger.read { try currentPair(app, in: $0) }
    }

    func currentPair(_ app: AppRecord, in reader: any StoreReader) throws -> (String, Secret) {
        let credential = try AppRegistry.currentCredential(of: app, in: reader)
        guard let sealed = credential.sealedSecret else {
            throw RotorError(.databaseInvalid, "the current secret of \(app.name) is missing; restore from a backup")
        }
        return (
            credential.clientID,
            try ledger.keyring.open(sealed, for: .clientSecret(appID: app.id, version: credential.version))
        )
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
            var record = try tx.store.insertRotation(
                NewRotation(
                    appID: app.id, trigger: trigger, fromVersion: app.currentVersion, authKind: kind,
                    occurrenceDue: occurrenceDue, occurrences: occurrences),
                at: tx.now)
            let id = record.id
            record.authToken = try tx.keyring.seal(token, for: .rotationAuth(rotationID: id))
            try tx.store.updateRotation(record)
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
    /// `stored` receives the new pair when it was stored here, so that
    /// verification need not read it back.
    func request(
        _ record: RotationRecord, app: AppRecord, token: Secret, lease: Lease, stored: inout (String, Secret)?
    ) async throws -> RotationRecord {
        do {
            let pair = try await api.rotateCredentials(
                apiURL: app.apiURL, token: token, applicationID: app.applicationID)
            Failpoint.hit("rotate.after-answer")
            let record = try await storePair(pair, for: record, app: app, source: .rotated, lease: lease)
            stored = (pair.clientID, pair.clientSecret)
            return record
        } catch let error as VendorError {
            var pending = record
            switch error.kind {
            case .forbidden, .notFound, .badRequest, .invalidCredentials:
                pending.refusal = .clear
                return try await transition(pending, to: .aborted, error: error.description, lease: lease, app: app)
            case .invalidToken, .expiredToken:
                pending.refusal = .transient(retryAfter: nil)
                return try await transition(pending, to: .aborted, error: error.description, lease: lease, app: app)
            case .rateLimited, .serverError, .malformedAnswer:
                // The vendor answered: this request is over, whatever it did.
                pending.error = "the rotate answer was lost: \(error)"
                return try await resolveRequesting(
                    pending, app: app, lease: lease, answered: true, retryAfter: error.retryAfter)
            case .networkError:
                // No answer: the request may still be on its way to the vendor.
                pending.error = "the rotate answer was lost: \(error)"
                return try await resolveRequesting(pending, app: app, lease: lease)
            }
        }
    }

    // MARK: store

    /// Invariant 2: the new pair is committed (encrypted) and synced to disk
    /// before anything else happens to it. If that commit fails, the pair is
    /// sealed into a spill file and the command stops with exit 4.
    func storePair(
        _ pair: RotatedPair, for record: RotationRecord, app: AppRecord, source: CredentialRecord.Source, lease: Lease
    ) async throws -> RotationRecord {
        let stored: RotationRecord
        do {
            // Returns once it is on disk: nothing goes on before.
            stored = try await ledger.commit { tx in
                try tx.fence(lease)
                return try Self.commitPair(
                    clientID: pair.clientID, secret: pair.clientSecret, record: record, source: source, tx: tx)
            }
        } catch {
            let spill = SpillFile(
                rotationID: record.id, appID: app.id, applicationID: app.applicationID, clientID: pair.clientID,
                clientSecret: pair.clientSecret)
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
        return stored
    }

    /// Stores a pair as the app's next version and moves the rotation to `rotated`.
    static func commitPair(
        clientID: String, secret: Secret, record: RotationRecord, source: CredentialRecord.Source,
        tx: LedgerTransaction
    ) throws -> RotationRecord {
        guard var app = try tx.store.app(id: record.appID) else {
            throw RotorError(.notFound, "the app of rotation \(record.id) was removed")
        }
        let previous = try AppRegistry.currentCredential(of: app, in: tx.store)
        let version = app.currentVersion + 1
        let fingerprint = tx.keyring.fingerprint(secret)
        try tx.store.insertCredential(
            CredentialRecord(
                appID: app.id, version: version, clientID: clientID,
                sealedSecret: try tx.keyring.seal(secret, for: .clientSecret(appID: app.id, version: version)),
                fingerprint: fingerprint, source: source, rotationID: record.id, createdAt: tx.now))
        app.currentVersion = version
        app.updatedAt = tx.now
        app.attention = nil
        try tx.store.updateApp(app)
        // The next due time counts from this pair: what was planned for the old one is void.
        try tx.store.dropPlannedOccurrences(appID: app.id)
        var updated = record
        updated.state = .rotated
        updated.toVersion = version
        updated.attempts = 0
        updated.nextAttemptAt = nil
        updated.error = nil
        updated.updatedAt = tx.now
        try tx.store.updateRotation(updated)
        try tx.record(
            AuditDraft(
                source == .recovered ? .rotationRecovered : .rotationRotated, app: app.name, rotationID: record.id,
                detail: [
                    "version": .int(Int64(version)), "client_id": .string(clientID),
                    "fingerprint": .string(fingerprint),
                    "previous_fingerprint": .string(previous.fingerprint), "source": .string(source.rawValue),
                ]))
        return updated
    }

    // MARK: verify

    /// A client-credentials grant with the new pair, then validate on that
    /// token, retried patiently. When the budget runs out the rotation is
    /// `failed` (it never reverts) and a later run tries again.
    /// `known` is the new pair when the caller has it in hand.
    func verify(_ record: RotationRecord, app: AppRecord, lease: Lease, known: (String, Secret)? = nil)
        async throws -> RotationRecord
    {
        Failpoint.hit("rotate.before-verify")
        guard let version = record.toVersion else {
            throw RotorError(.databaseInvalid, "rotation \(record.id) has no new version to verify")
        }
        if let known {
            return try await verify(record, app: app, lease: lease, clientID: known.0, secret: known.1)
        }
        let (clientID, secret) = try await ledger.query { [ledger] reader in
            guard let credential = try reader.credential(appID: app.id, version: version),
                let sealed = credential.sealedSecret
            else { throw RotorError(.databaseInvalid, "version \(version) of \(app.name) is missing") }
            return (
                credential.clientID,
                try ledger.keyring.open(sealed, for: .clientSecret(appID: app.id, version: version))
            )
        }
        return try await verify(record, app: app, lease: lease, clientID: clientID, secret: secret)
    }

    func verify(_ record: RotationRecord, app: AppRecord, lease: Lease, clientID: String, secret: Secret)
        async throws -> RotationRecord
    {
        let start = ledger.clock.now
        var attempt = 0
        var lastError = ""
        while true {
            do {
                let token = try await api.clientCredentialsGrant(apiURL: app.apiURL, clientID: clientID, secret: secret)
                if try await api.validate(apiURL: app.apiURL, token: token.token) {
                    return try await verified(record, lease: lease, app: app)
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
        return try await transition(
            record, to: .failed, error: "verification failed: \(lastError)", lease: lease, app: app)
    }

    // MARK: deliver

    /// Every enabled target gets the new version; then the rotation is complete.
    func deliver(_ record: RotationRecord, app: AppRecord, lease: Lease) async throws -> RotationRecord {
        guard let version = record.toVersion else {
            throw RotorError(.databaseInvalid, "rotation \(record.id) has no new version to deliver")
        }
        if let deliverer {
            let pending = try await deliverer.deliver(
                appID: app.id, version: version, rotationID: record.id, lease: lease)
            if pending > 0 {
                var updated = record
                updated.error = "\(pending) target(s) still lack version \(version)"
                return try await ledger.commit { [updated] tx in
                    var updated = updated
                    try tx.fence(lease)
                    updated.updatedAt = tx.now
                    // Not before the earliest retry of a failed target: a failing hook never spins.
                    updated.nextAttemptAt = try tx.store.nextDeliveryAttempt(appID: app.id, version: version)
                    try tx.store.updateRotation(updated)
                    return updated
                }
            }
        }
        return try await transition(record, to: .completed, error: nil, lease: lease, app: app)
    }

    // MARK: transitions

    /// Moves a rotation to `state` with its audit event, in one fenced
    /// transaction. Terminal states drop the sealed token; completion also
    /// wipes the superseded secret, which the vendor no longer accepts.
    func transition(
        _ record: RotationRecord, to state: RotationState, error: String?, lease: Lease, app: AppRecord,
        nextAttemptAt: Date? = nil
    ) async throws -> RotationRecord {
        try await ledger.commit { tx in
            try tx.fence(lease)
            var moved = try apply(record, to: state, error: error, app: app, tx: tx)
            if let nextAttemptAt {
                moved.nextAttemptAt = nextAttemptAt
                try tx.store.updateRotation(moved)
            }
            return moved
        }
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
    func verified(_ record: RotationRecord, lease: Lease, app: AppRecord) async throws -> RotationRecord {
        try await ledger.commit(durable: false) { tx in
            try tx.fence(lease)
            let targets = deliverer == nil ? [] : try tx.store.targets(appID: app.id).filter(\.enabled)
            let states: [RotationState] = targets.isEmpty ? [.verified, .completed] : [.verified]
            return try apply(record, through: states, app: app, tx: tx)
        }
    }

    /// One transition with its audit event, inside `tx`.
    func apply(_ record: RotationRecord, to state: RotationState, error: String?, app: AppRecord, tx: LedgerTransaction)
        throws -> RotationRecord
    {
        try apply(record, through: [state], error: error, app: app, tx: tx)
    }

    /// Transitions through `states` in turn, each with its audit event, and
    /// stores the rotation once, as it ends, inside `tx`.
    func apply(
        _ record: RotationRecord, through states: [RotationState], error: String? = nil, app: AppRecord,
        tx: LedgerTransaction
    ) throws -> RotationRecord {
        var current = record
        for state in states {
            current = try transitioned(current, to: state, error: error, app: app, tx: tx)
        }
        try tx.store.updateRotation(current)
        return current
    }

    /// `record` moved to `state` and the transition's audit event recorded;
    /// the rotation itself is left for the caller to store.
    private func transitioned(
        _ record: RotationRecord, to state: RotationState, error: String?, app: AppRecord, tx: LedgerTransaction
    ) throws -> RotationRecord {
        var updated = record
        updated.state = state
        updated.error = error
        updated.updatedAt = tx.now
        switch state {
        case .failed, .requesting:
            updated.attempts += 1
            updated.nextAttemptAt = tx.now.addingTimeInterval(
                backoff.delay(
                    afterAttempt: updated.attempts - 1, retryAfter: nil, random: Double.random(in: 0.5..<1)))
        case .completed, .aborted, .lost:
            updated.finishedAt = tx.now
            updated.authToken = nil
            updated.nextAttemptAt = nil
            if state == .lost {
                _ = try Self.needsAction(
                    app,
                    reason:
                        "rotation \(record.id) is lost: ask the vendor's support for a new pair, then run `rotor app set \(app.name) --client-id ID --client-secret-stdin`",
                    tx: tx)
            } else if state == .aborted, let refusal = record.refusal {
                if refusal == .clear {
                    _ = try Self.needsAction(
                        app,
                        reason:
                            "the vendor refused rotation \(record.id)\(error.map { " (\($0))" } ?? ""); fix the cause at the vendor, then run `rotor rotate \(app.name)`",
                        tx: tx)
                } else if record.trigger == .schedule, let due = record.occurrenceDue {
                    try Self.retryOccurrence(
                        appID: app.id, due: due, refusal: refusal, error: error ?? "refused for a while",
                        rotationID: record.id, tx: tx)
                }
            }
        case .rotated, .verified:
            updated.attempts = 0
            updated.nextAttemptAt = nil
        }
        if state == .completed {
            try tx.store.wipeSecret(appID: record.appID, version: record.fromVersion)
        }
        var detail: [String: JSONValue] = ["state": .string(state.rawValue)]
        if let error { detail["error"] = .string(error) }
        if let version = updated.toVersion { detail["version"] = .int(Int64(version)) }
        let action: AuditAction?
        switch state {
        case .verified: action = .rotationVerified
        case .completed: action = .rotationCompleted
        case .aborted, .failed, .lost: action = .rotationFailed
        case .requesting:
            // Still unresolved: record the attempt only the first time.
            action = record.attempts == 0 ? .rotationFailed : nil
        case .rotated: action = nil
        }
        if let action {
            let outcome: AuditOutcome = [.verified, .completed].contains(state) ? .success : .failure
            try tx.record(
                AuditDraft(action, outcome: outcome, app: app.name, rotationID: record.id, detail: detail))
        }
        return updated
    }
}
