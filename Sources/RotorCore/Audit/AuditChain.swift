import Crypto
import Foundation

/// The hash chain over audit events.
///
/// `hash = SHA-256(prev_hash + "\n" + canonical bytes)`, lowercase hex. The
/// canonical bytes are `rotor-audit-v1\n` followed by, for each of id, time,
/// actor, action, outcome, app, rotation_id and detail, either `~\n` (null)
/// or `<UTF-8 length>:<value>\n`. The first event's prev_hash is 64 zeros.
public enum AuditChain {
    public static let genesis = String(repeating: "0", count: 64)

    public static func canonicalBytes(
        id: Int64, time: String, actor: String, action: String, outcome: String, app: String?,
        rotationID: Int64?, detail: String
    ) -> Data {
        var out: [UInt8] = []
        out.reserveCapacity(64 + time.utf8.count + actor.utf8.count + action.utf8.count + detail.utf8.count)
        out.append(contentsOf: "rotor-audit-v1\n".utf8)
        for field in [String(id), time, actor, action, outcome, app, rotationID.map(String.init), detail] {
            if let field {
                out.append(contentsOf: String(field.utf8.count).utf8)
                out.append(UInt8(ascii: ":"))
                out.append(contentsOf: field.utf8)
                out.append(UInt8(ascii: "\n"))
            } else {
                out.append(contentsOf: "~\n".utf8)
            }
        }
        return Data(out)
    }

    public static func hash(prevHash: String, canonical: Data) -> String {
        var hasher = SHA256()
        var previous = Array(prevHash.utf8)
        previous.append(UInt8(ascii: "\n"))
        hasher.update(data: previous)
        hasher.update(data: canonical)
        return Hex.encode(hasher.finalize())
    }

    /// Seals a draft as the event after `head` (nil: the first event).
    public static func next(_ draft: AuditDraft, after head: AuditHead?, time: Date, actor: String) -> AuditEvent {
        let id = (head?.lastID ?? 0) + 1
        let prev = head?.lastHash ?? genesis
        let stamp = RFC3339.format(time)
        let detail = JSONValue.object(JSONObject(draft.detail)).canonical
        let canonical = canonicalBytes(
            id: id, time: stamp, actor: actor, action: draft.action.rawValue, outcome: draft.outcome.rawValue,
            app: draft.app, rotationID: draft.rotationID, detail: detail)
        return AuditEvent(
            id: id, time: stamp, actor: actor, action: draft.action.rawValue, outcome: draft.outcome.rawValue,
            app: draft.app, rotationID: draft.rotationID, detail: detail, prevHash: prev,
            hash: hash(prevHash: prev, canonical: canonical))
    }

    /// The hash `event` should carry, recomputed from its fields.
    public static func expectedHash(of event: AuditEvent) -> String {
        hash(
            prevHash: event.prevHash,
            canonical: canonicalBytes(
                id: event.id, time: event.time, actor: event.actor, action: event.action, outcome: event.outcome,
                app: event.app, rotationID: event.rotationID, detail: event.detail))
    }

    /// The head after appending `event`, with its MAC.
    public static func head(after event: AuditEvent, previous: AuditHead?, keyring: Keyring) -> AuditHead {
        var head = AuditHead(
            lastID: event.id, lastHash: event.hash, baseID: previous?.baseID ?? 0,
            baseHash: previous?.baseHash ?? genesis, mac: "")
        head.mac = keyring.auditHeadMAC(head)
        return head
    }
}

/// Walks a chain in id order and reports the first break.
public struct AuditVerifier {
    public private(set) var expectedID: Int64
    public private(set) var previousHash: String
    public private(set) var checked = 0

    /// Starts after the base of the chain (0 and the genesis hash when nothing was pruned).
    public init(baseID: Int64 = 0, baseHash: String = AuditChain.genesis) {
        expectedID = baseID + 1
        previousHash = baseHash
    }

    /// Checks the next event; the failure names what does not match.
    public mutating func check(_ event: AuditEvent) -> AuditBreak? {
        if event.id != expectedID {
            return AuditBreak(
                eventID: event.id,
                reason: event.id > expectedID
                    ? "events \(expectedID)…\(event.id - 1) are missing" : "event \(event.id) is out of order")
        }
        if event.prevHash != previousHash {
            return AuditBreak(eventID: event.id, reason: "its previous hash does not match event \(event.id - 1)")
        }
        if AuditChain.expectedHash(of: event) != event.hash {
            return AuditBreak(eventID: event.id, reason: "its contents do not match its hash (edited)")
        }
        expectedID += 1
        previousHash = event.hash
        checked += 1
        return nil
    }

    /// Checks that the walk ended where the head says, and the head's MAC.
    public func finish(head: AuditHead?, keyring: Keyring) -> AuditBreak? {
        guard let head else {
            return checked == 0 ? nil : AuditBreak(eventID: nil, reason: "the chain head checkpoint is missing")
        }
        if keyring.auditHeadMAC(head) != head.mac {
            return AuditBreak(eventID: nil, reason: "the chain head checkpoint was altered")
        }
        if head.lastID != expectedID - 1 || head.lastHash != previousHash {
            return AuditBreak(
                eventID: expectedID,
                reason: head.lastID > expectedID - 1
                    ? "events \(expectedID)…\(head.lastID) were removed from the end (truncated)"
                    : "events after \(head.lastID) were appended outside Rotor")
        }
        return nil
    }
}

public struct AuditBreak: Sendable, Equatable, CustomStringConvertible {
    public var eventID: Int64?
    public var reason: String
    public var description: String {
        eventID.map { "event \($0): \(reason)" } ?? reason
    }
}
