/// Reading and checking the audit log.
public struct AuditLog: Sendable {
    public let ledger: Ledger

    public init(ledger: Ledger) {
        self.ledger = ledger
    }

    /// The outcome of a walk over the whole chain.
    public struct Verification: Sendable, Equatable {
        public var checked: Int
        public var firstBreak: AuditBreak?
        public var isIntact: Bool { firstBreak == nil }
    }

    /// Walks the chain from its base to its head in batches, checking ids,
    /// links, hashes and the keyed head checkpoint; `progress` hears of each batch.
    public func verify(batch: Int64 = 10_000, progress: ProgressReport? = nil) async throws -> Verification {
        try await ledger.read { reader in
            let head = try reader.auditHead()
            let total = Int((head?.lastID ?? 0) - (head?.baseID ?? 0))
            var verifier = AuditVerifier(
                baseID: head?.baseID ?? 0, baseHash: head?.baseHash ?? AuditChain.genesis)
            var next = (head?.baseID ?? 0) + 1
            while true {
                let events = try reader.auditEvents(ids: next...(next + batch - 1))
                for event in events {
                    if let failure = verifier.check(event) {
                        return Verification(checked: verifier.checked, firstBreak: failure)
                    }
                }
                // A gap larger than one batch: look for anything beyond it.
                if events.isEmpty {
                    guard let later = try reader.auditEvents(ids: next...Int64.max).first else { break }
                    if let failure = verifier.check(later) {
                        return Verification(checked: verifier.checked, firstBreak: failure)
                    }
                }
                next = verifier.expectedID
                progress?(verifier.checked, total)
            }
            return Verification(
                checked: verifier.checked, firstBreak: verifier.finish(head: head, keyring: ledger.keyring))
        }
    }
}
