import Foundation

/// What a change asks the audit log to record; the chain adds id, time and hashes.
public struct AuditDraft: Sendable, Equatable {
    public var action: AuditAction
    public var outcome: AuditOutcome
    public var app: String?
    public var rotationID: Int64?
    /// Never a secret; a fingerprint is enough to tell versions apart.
    public var detail: [String: JSONValue]

    public init(
        _ action: AuditAction, outcome: AuditOutcome = .success, app: String? = nil, rotationID: Int64? = nil,
        detail: [String: JSONValue] = [:]
    ) {
        self.action = action
        self.outcome = outcome
        self.app = app
        self.rotationID = rotationID
        self.detail = detail
    }
}

/// One event of the audit log, as stored. `detail` is canonical JSON text,
/// kept verbatim because the hash covers it.
public struct AuditEvent: Sendable, Equatable {
    public var id: Int64
    /// RFC 3339 UTC with milliseconds, e.g. `2026-11-29T10:00:00.000Z`.
    public var time: String
    public var actor: String
    public var action: String
    public var outcome: String
    public var app: String?
    public var rotationID: Int64?
    public var detail: String
    public var prevHash: String
    public var hash: String

    public init(
        id: Int64, time: String, actor: String, action: String, outcome: String, app: String?, rotationID: Int64?,
        detail: String, prevHash: String, hash: String
    ) {
        self.id = id
        self.time = time
        self.actor = actor
        self.action = action
        self.outcome = outcome
        self.app = app
        self.rotationID = rotationID
        self.detail = detail
        self.prevHash = prevHash
        self.hash = hash
    }

    /// The event as the JSON object of `cli.md`'s audit formats.
    public var json: JSONValue {
        [
            "id": .int(id), "time": .string(time), "actor": .string(actor), "action": .string(action),
            "outcome": .string(outcome), "app": .optional(app), "rotation_id": .optional(rotationID),
            "detail": JSONValue.parse(detail) ?? .string(detail), "hash": .string(hash),
            "prev_hash": .string(prevHash),
        ]
    }
}

/// The newest end of the chain and, after pruning, its oldest retained base.
public struct AuditHead: Sendable, Equatable {
    public var lastID: Int64
    public var lastHash: String
    public var baseID: Int64
    public var baseHash: String
    public var mac: String

    public init(lastID: Int64, lastHash: String, baseID: Int64, baseHash: String, mac: String) {
        self.lastID = lastID
        self.lastHash = lastHash
        self.baseID = baseID
        self.baseHash = baseHash
        self.mac = mac
    }
}
