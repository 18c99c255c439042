import Foundation

extension AuditLog {
    /// `T` of `cli.md`: RFC 3339 (`2026-11-29T10:00:00Z`) or a duration ago
    /// (`24h`, `7d`), as the stored RFC 3339 UTC text.
    public static func time(_ text: String, option: String, now: Date) throws(RotorError) -> String {
        if let date = RFC3339.parse(text) { return RFC3339.format(date) }
        guard let seconds = try? DurationText.parse(text, option: option) else {
            throw RotorError(
                .invalidInput,
                "\(option) takes an RFC 3339 time (2026-11-29T10:00:00Z) or a duration ago (24h, 7d), not \(UserText.quoted(text))"
            )
        }
        return RFC3339.format(now.addingTimeInterval(-TimeInterval(seconds)))
    }

    /// The events `query` selects. A query for an app that is not
    /// registered and never had an event (most likely a typo) is refused
    /// rather than answered with nothing; a removed app keeps its history.
    /// A poll for newer events (`afterID`) follows a first query that checked.
    public func events(_ query: AuditQuery) async throws -> [AuditEvent] {
        try await ledger.read { reader in
            let events = try reader.auditEvents(matching: query)
            if events.isEmpty, query.afterID == nil, let app = query.app, try reader.app(named: app) == nil,
                try reader.auditEvents(matching: AuditQuery(app: app, limit: 1)).isEmpty
            {
                throw RotorError(
                    .notFound,
                    "no app named \(UserText.shown(app)) and no audit event of one; `rotor app list` shows the registered apps"
                )
            }
            return events
        }
    }

    /// Events with ids above `afterID`, oldest first, in batches (export, follow).
    public func events(after afterID: Int64, since: String? = nil, batch: Int = 10_000) async throws -> [AuditEvent] {
        try await events(AuditQuery(since: since, afterID: afterID, limit: batch, ascending: true, byID: true))
    }

    /// Checks an exported chain (one JSON object per line, as `rotor audit
    /// export` writes) on its own: every hash recomputed, every link and id
    /// in sequence. The first line's previous hash is taken as given.
    public static func verifyExport(lines: some Sequence<Substring>) -> Verification {
        var verifier: AuditVerifier?
        var number = 0
        for line in lines where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            number += 1
            guard let event = AuditEvent(jsonLine: String(line)) else {
                return Verification(
                    checked: verifier?.checked ?? 0,
                    firstBreak: AuditBreak(eventID: nil, reason: "line \(number) is not an exported audit event"))
            }
            if verifier == nil { verifier = AuditVerifier(baseID: event.id - 1, baseHash: event.prevHash) }
            if let failure = verifier!.check(event) {
                return Verification(checked: verifier!.checked, firstBreak: failure)
            }
        }
        return Verification(checked: verifier?.checked ?? 0, firstBreak: nil)
    }

    /// Removes the oldest events, those before `time`, as one whole prefix of
    /// a chain that first verifies; the chain's base moves to the last removed
    /// event so that verification still passes. Recorded as `audit.pruned`.
    public func prune(before time: String) async throws -> (removed: Int64, baseID: Int64) {
        let verification = try await verify()
        if let failure = verification.firstBreak {
            throw RotorError(.databaseInvalid, "the audit chain does not verify (\(failure)); nothing was pruned")
        }
        return try await ledger.commit { tx in
            guard var head = try tx.store.auditHead() else { return (0, 0) }
            // The prefix ends before the first event at or after `time`.
            let firstKept = try tx.store.auditEvents(
                matching: AuditQuery(since: time, limit: 1, ascending: true, byID: true)
            ).first
            let last = (firstKept?.id ?? head.lastID + 1) - 1
            guard last > head.baseID,
                let boundary = try tx.store.auditEvents(ids: last...last).first
            else { return (0, head.baseID) }
            let removed = last - head.baseID
            head.baseID = last
            head.baseHash = boundary.hash
            head.mac = tx.keyring.auditHeadMAC(head)
            try tx.store.pruneAudit(through: last, head: head)
            try tx.record(
                AuditDraft(
                    .auditPruned,
                    detail: [
                        "before": .string(time), "removed": .int(removed), "base_id": .int(last),
                        "base_hash": .string(boundary.hash),
                    ]))
            return (removed, last)
        }
    }
}

extension AuditEvent {
    /// Reads one line of `rotor audit export`.
    public init?(jsonLine: String) {
        guard case .object(let object)? = JSONValue.parse(jsonLine), case .int(let id)? = object["id"],
            case .string(let time)? = object["time"], case .string(let actor)? = object["actor"],
            case .string(let action)? = object["action"], case .string(let outcome)? = object["outcome"],
            case .string(let hash)? = object["hash"], case .string(let prevHash)? = object["prev_hash"],
            let detail = object["detail"]
        else { return nil }
        var app: String?
        if case .string(let value)? = object["app"] { app = value }
        var rotationID: Int64?
        if case .int(let value)? = object["rotation_id"] { rotationID = value }
        self.init(
            id: id, time: time, actor: actor, action: action, outcome: outcome, app: app, rotationID: rotationID,
            detail: detail.canonical, prevHash: prevHash, hash: hash)
    }

    /// RFC 4180 CSV: id, time, actor, action, outcome, app, rotation_id, detail, hash.
    public static let csvHeader = "id,time,actor,action,outcome,app,rotation_id,detail,hash"

    public var csvLine: String {
        let fields: [String] = [
            String(id), time, actor, action, outcome, app ?? "", rotationID.map(String.init) ?? "", detail, hash,
        ]
        return
            fields.map { field in
                field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                    ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
            }
            .joined(separator: ",")
    }
}
