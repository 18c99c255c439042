/// The audit actions of `cli.md`. Their names are a public contract.
public enum AuditAction: String, Sendable, CaseIterable, Codable {
    case appAdded = "app.added"
    case appUpdated = "app.updated"
    case appRemoved = "app.removed"
    /// Scheduled rotation of the app stopped until a person acts.
    case appNeedsAction = "app.needs_action"
    case targetAdded = "target.added"
    case targetRemoved = "target.removed"
    /// A target's settings changed in place (`rotor apply`); its deliveries stay.
    case targetUpdated = "target.updated"
    case identityAdded = "identity.added"
    case identityRemoved = "identity.removed"
    case rotationStarted = "rotation.started"
    case rotationRotated = "rotation.rotated"
    case rotationVerified = "rotation.verified"
    case rotationCompleted = "rotation.completed"
    case rotationFailed = "rotation.failed"
    case rotationRecovered = "rotation.recovered"
    case deliverySucceeded = "delivery.succeeded"
    case deliveryFailed = "delivery.failed"
    case secretRevealed = "secret.revealed"
    case keyRotated = "key.rotated"
    case alertAdded = "alert.added"
    case alertRemoved = "alert.removed"
    case alertUpdated = "alert.updated"
    case auditPruned = "audit.pruned"
    /// The token broker refused a peer (rate-limited: once a minute per app and user).
    case tokenDenied = "token.denied"
    case groupAdded = "group.added"
    case groupRemoved = "group.removed"
}

public enum AuditOutcome: String, Sendable, Codable, CaseIterable {
    case success
    case failure
}
