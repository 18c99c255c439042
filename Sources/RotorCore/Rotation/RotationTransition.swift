import Foundation

/// One move of a rotation through the state machine of `rotation.md`: the
/// rotation as it is afterwards, the audit event that records the move, and
/// what else the move asks of the store. Computed without I/O by
/// ``RotationRecord/moved(to:error:app:at:backoff:random:)``; the engine
/// writes it, all in one transaction.
public struct RotationTransition: Sendable, Equatable {
    /// What a move asks of the store besides the rotation row and its event.
    public enum Effect: Sendable, Equatable {
        /// The app needs an operator: set its attention with this reason
        /// (and its fix), and audit that, unless it is marked already.
        case needsAction(reason: String)
        /// Put the scheduled rotation's occurrence back to pending after a
        /// transient refusal, with backoff (`Retry-After` honoured).
        case retryOccurrence(due: Date, refusal: Refusal, error: String)
        /// Drop the superseded secret: the vendor no longer accepts it.
        case wipeSecret(version: Int)
    }

    public var record: RotationRecord
    public var audit: AuditDraft?
    /// In the order they are to be carried out, before the audit event.
    public var effects: [Effect]
}

extension RotationState {
    /// The states a rotation may move to from this one. `requesting` stays
    /// `requesting` while nothing is learned; `verified` stays `verified`
    /// while targets still lack the version; `lost` goes back to `rotated`
    /// only when its pair turns up in a spill file.
    public var successors: Set<RotationState> {
        switch self {
        case .requesting: [.requesting, .rotated, .aborted, .lost]
        case .rotated: [.verified, .failed]
        case .failed: [.verified, .failed]
        case .verified: [.verified, .completed]
        case .lost: [.rotated]
        case .completed, .aborted: []
        }
    }
}

extension RotationRecord {
    /// This rotation moved to `state` at `now`: every transition of
    /// `rotation.md`, and the only place that changes a rotation's state,
    /// attempts, next attempt, end time and sealed token.
    ///
    /// - `error`: the reason the rotation is where it is now (nil clears it).
    /// - `app`: the app's name, for the operator's fix in a reason.
    /// - `toVersion`: the version stored, for a move to `rotated`.
    /// - `nextAttemptAt`: when to try again, where the caller knows better
    ///   than the backoff (the end of the in-flight window, the earliest
    ///   delivery retry).
    /// - `random`: a number in 0..<1 that spreads the backoff (jitter).
    public func moved(
        to state: RotationState, error: String?, app: String, at now: Date, backoff: RetryPolicy, random: Double,
        toVersion: Int? = nil, nextAttemptAt: Date? = nil
    ) throws(RotorError) -> RotationTransition {
        guard self.state.successors.contains(state) else {
            throw RotorError(
                .databaseInvalid,
                "rotation \(id) cannot move from \(self.state.rawValue) to \(state.rawValue); was the database edited by hand?"
            )
        }
        var moved = self
        moved.state = state
        moved.error = error
        moved.updatedAt = now
        var effects: [RotationTransition.Effect] = []
        switch state {
        case .requesting, .failed:
            moved.attempts += 1
            moved.nextAttemptAt =
                nextAttemptAt
                ?? now.addingTimeInterval(
                    backoff.delay(afterAttempt: moved.attempts - 1, retryAfter: nil, random: random))
        case .rotated:
            moved.toVersion = toVersion ?? self.toVersion
            moved.attempts = 0
            moved.nextAttemptAt = nil
            // A lost rotation whose pair turned up is open again.
            moved.finishedAt = nil
        case .verified:
            moved.attempts = 0
            moved.nextAttemptAt = self.state == .verified ? nextAttemptAt : nil
        case .completed, .aborted, .lost:
            moved.finishedAt = now
            moved.authToken = nil
            moved.nextAttemptAt = nil
        }
        switch state {
        case .lost:
            effects.append(
                .needsAction(
                    reason:
                        "rotation \(id) is lost: ask the vendor's support for a new pair, then run `rotor app set \(app) --client-id ID --client-secret-stdin`"
                ))
        case .aborted where refusal == .clear:
            effects.append(
                .needsAction(
                    reason:
                        "the vendor refused rotation \(id)\(error.map { " (\($0))" } ?? ""); fix the cause at the vendor, then run `rotor rotate \(app)`"
                ))
        case .aborted:
            if let refusal, trigger == .schedule, let occurrenceDue {
                effects.append(
                    .retryOccurrence(due: occurrenceDue, refusal: refusal, error: error ?? "refused for a while"))
            }
        case .completed:
            effects.append(.wipeSecret(version: fromVersion))
        case .requesting, .rotated, .verified, .failed:
            break
        }
        return RotationTransition(record: moved, audit: auditDraft(for: moved, app: app), effects: effects)
    }

    /// The event that records the move from this rotation to `moved`; nil
    /// for moves that write none (`rotated` has the stored version's event;
    /// an unresolved rotation records its first failed attempt only; a
    /// rotation still waiting for deliveries records nothing new).
    private func auditDraft(for moved: RotationRecord, app: String) -> AuditDraft? {
        let action: AuditAction
        switch moved.state {
        case .verified where state == .verified: return nil
        case .verified: action = .rotationVerified
        case .completed: action = .rotationCompleted
        case .aborted, .failed, .lost: action = .rotationFailed
        case .requesting where attempts == 0: action = .rotationFailed
        case .requesting, .rotated: return nil
        }
        var detail: [String: JSONValue] = ["state": .string(moved.state.rawValue)]
        if let error = moved.error { detail["error"] = .string(error) }
        if let version = moved.toVersion { detail["version"] = .int(Int64(version)) }
        let outcome: AuditOutcome = moved.state == .verified || moved.state == .completed ? .success : .failure
        return AuditDraft(action, outcome: outcome, app: app, rotationID: id, detail: detail)
    }
}
