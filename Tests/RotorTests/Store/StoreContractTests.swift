import Foundation
import RotorCore
import RotorTesting
import Testing

/// What every storage backend must do, through the core's interface only
/// (``Store``, ``StoreReader``, ``StoreWriter``): each test runs once per
/// backend in ``StoreBackend/all``, unchanged.
struct StoreContractTests {
    static let backends = StoreBackend.all

    struct Refused: Error {}

    // MARK: transactions

    @Test(arguments: backends)
    func aBodyThatThrowsChangesNothing(_ backend: StoreBackend) async throws {
        let db = try await backend.make(InstantClock())
        let head = try await db.ledger.read { try $0.auditHead()?.lastID }
        await #expect(throws: Refused.self) {
            try await db.ledger.commit { tx in
                _ = try tx.store.insertApp(
                    NewApp(
                        name: "ghost", applicationID: "app-ghost", apiURL: "https://example.invalid", schedule: .none,
                        jitter: 0, window: nil, timezone: "UTC", identityID: nil),
                    at: tx.now)
                try tx.record(AuditDraft(.appAdded, app: "ghost"))
                throw Refused()
            }
        }
        #expect(try await db.ledger.read { try $0.app(named: "ghost") } == nil)
        #expect(try await db.ledger.read { try $0.auditHead()?.lastID } == head)
    }

    /// A transaction reads the events it recorded, and the head they moved,
    /// before it commits (a backend may hold them back until COMMIT), and
    /// pruning in the same transaction sees them too.
    @Test(arguments: backends)
    func eventsRecordedInATransactionAreReadByIt(_ backend: StoreBackend) async throws {
        let db = try await backend.make(InstantClock())
        let before = try await db.ledger.read { try $0.auditHead()?.lastID ?? 0 }
        let seen = try await db.ledger.commit { tx in
            for name in ["a", "b", "c"] { try tx.record(AuditDraft(.appUpdated, app: name)) }
            let head = try #require(try tx.store.auditHead())
            let byID = try tx.store.auditEvents(ids: (before + 1)...(before + 3)).compactMap(\.app)
            let matching = try tx.store.auditEvents(matching: AuditQuery(app: "b")).count
            return (head.lastID, byID, matching)
        }
        #expect(seen.0 == before + 3)
        #expect(seen.1 == ["a", "b", "c"])
        #expect(seen.2 == 1)
        let pruned = try await AuditLog(ledger: db.ledger).prune(before: "9999-01-01T00:00:00Z")
        #expect(pruned.removed == before + 3)
        #expect(try await AuditLog(ledger: db.ledger).verify().isIntact)
        #expect(try await db.ledger.read { try $0.auditHead()?.lastID } == before + 4)
    }

    /// Concurrent commits each apply once, atomically, and the audit chain
    /// they extend stays whole and gapless; a failing one takes only itself back.
    @Test(arguments: backends)
    func concurrentCommitsEachApplyOnceAndKeepTheChain(_ backend: StoreBackend) async throws {
        let db = try await backend.make(InstantClock())
        let before = try await db.ledger.read { try $0.auditHead()?.lastID ?? 0 }
        let results = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<40 {
                group.addTask {
                    do {
                        try await db.ledger.commit(durable: index % 2 == 0) { tx in
                            try tx.record(AuditDraft(.appUpdated, app: "app\(index)"))
                            if index % 10 == 3 { throw Refused() }
                        }
                        return true
                    } catch {
                        return false
                    }
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.filter { $0 }.count == 36)
        let events = try await db.ledger.read { try $0.auditEvents(ids: (before + 1)...(before + 100)) }
        #expect(events.map(\.id) == Array((before + 1)...(before + 36)))
        #expect(Set(events.compactMap(\.app)).count == 36)
        #expect(!events.contains { $0.app.map { ["app3", "app13", "app23", "app33"].contains($0) } ?? false })
        #expect(try await AuditLog(ledger: db.ledger).verify().isIntact)
    }

    @Test(arguments: backends)
    func aReadSeesEveryCommitThatReturnedBeforeIt(_ backend: StoreBackend) async throws {
        let db = try await backend.make(InstantClock())
        for index in 0..<5 {
            try await db.ledger.commit(durable: false) { try $0.store.setMeta(.createdAt, "mark-\(index)") }
            #expect(try await db.ledger.read { try $0.meta(.createdAt) } == "mark-\(index)")
        }
        try await db.ledger.flush()
    }

    @Test(arguments: backends)
    func theChangeMarkMovesWhenAnotherHandleCommits(_ backend: StoreBackend) async throws {
        let db = try await backend.make(InstantClock())
        let other = try await db.openAnother()
        let first = try await db.store.changeMark()
        #expect(try await db.store.changeMark() == first)
        _ = try await other.commit { try $0.setMeta(.createdAt, "changed elsewhere") }
        #expect(try await db.store.changeMark() != first)
        #expect(try await db.ledger.read { try $0.meta(.createdAt) } == "changed elsewhere")
        try await other.close()
    }

    /// A store call, once made, runs to its end even when the calling task
    /// is cancelled (as the daemon's are when it stops): never half a read.
    @Test(arguments: backends)
    func aCallFromACancelledTaskRunsToItsEnd(_ backend: StoreBackend) async throws {
        let db = try await backend.make(InstantClock())
        let ledger = db.ledger
        let result = await Task { () async throws -> String? in
            withUnsafeCurrentTask { $0?.cancel() }
            try await ledger.commit { try $0.store.setMeta(.createdAt, "written while cancelled") }
            return try await ledger.read { try $0.meta(.createdAt) }
        }.result
        #expect(try result.get() == "written while cancelled")
        #expect(try await db.store.changeMark() >= 0)
    }

    // MARK: leases

    /// A lease whose owner is known to be gone (here: a process that ran and
    /// ended, so it has no process on this host and no database session) is
    /// taken over before it expires; one of a live process is not.
    @Test(arguments: backends)
    func aLeaseOfAProcessThatIsGoneIsTakenOverBeforeItExpires(_ backend: StoreBackend) async throws {
        let clock = InstantClock()
        let db = try await backend.make(clock)
        let ended = Process()
        ended.executableURL = URL(fileURLWithPath: "/bin/true")
        try ended.run()
        ended.waitUntilExit()
        func take(_ name: String, _ owner: String) async throws -> Lease {
            try await db.store.commit(durable: false) { writer in
                try writer.acquireLease(name, owner: owner, expiresAt: clock.now.addingTimeInterval(60), now: clock.now)
            }
        }
        let gone = "\(LeaseOwner.node)/\(ended.processIdentifier)/1"
        #expect(try await take("dead", gone).owner == gone)
        let mine = LeaseOwner.make()
        #expect(try await take("dead", mine).owner == mine)
        let alive = "\(LeaseOwner.presence)/2"
        #expect(try await take("live", alive).owner == alive)
        #expect(try await take("live", mine).owner == alive)
    }

    /// The nodes `rotor run` records, and the leases live now, for `rotor status`.
    @Test(arguments: backends)
    func nodesAreRecordedAndLiveLeasesListed(_ backend: StoreBackend) async throws {
        let clock = InstantClock()
        let db = try await backend.make(clock)
        let started = clock.now
        let first = NodeRecord(name: "node-a", pid: 42, version: "1.0", startedAt: started, seenAt: started)
        try await db.store.commit { try $0.recordNode(first) }
        clock.advance(by: 30)
        var seen = first
        seen.seenAt = clock.now
        let node = seen
        try await db.store.commit { try $0.recordNode(node) }
        try await db.store.commit {
            try $0.recordNode(NodeRecord(name: "node-b", pid: 7, version: "1.0", startedAt: started, seenAt: started))
        }
        let nodes = try await db.store.read { try $0.nodes() }
        #expect(nodes.map(\.name) == ["node-a", "node-b"])
        #expect(nodes.first == node)
        #expect(nodes.first?.isAlive(now: clock.now) == true && nodes.last?.isAlive(now: clock.now) == true)
        clock.advance(by: 70)
        #expect(try await db.store.read { try $0.nodes() }.last?.isAlive(now: clock.now) == false)

        for (name, seconds) in [("short", 10.0), ("long", 100.0)] {
            _ = try await db.store.commit(durable: false) { writer in
                try writer.acquireLease(
                    name, owner: "node-a/42/1", expiresAt: clock.now.addingTimeInterval(seconds), now: clock.now)
            }
        }
        clock.advance(by: 20)
        let live = try await db.store.read { try $0.leases(activeAt: clock.now) }
        #expect(live.map(\.name) == ["long"] && live.first?.node == "node-a")
    }

    @Test(arguments: backends)
    func aLeaseHasOneHolderAtATimeAndFencesTheLastOne(_ backend: StoreBackend) async throws {
        let clock = InstantClock()
        let db = try await backend.make(clock)
        let store = db.store
        func take(_ owner: String, for seconds: TimeInterval) async throws -> Lease {
            try await store.commit(durable: false) { writer in
                try writer.acquireLease(
                    "contract", owner: owner, expiresAt: clock.now.addingTimeInterval(seconds), now: clock.now)
            }
        }
        let first = try await take("a", for: 10)
        #expect(first.owner == "a")
        // Held and live: another owner gets the lease as it stands, unchanged.
        #expect(try await take("b", for: 10) == first)
        // The holder takes it again under the same token.
        clock.advance(by: 5)
        let again = try await take("a", for: 10)
        #expect(again.owner == "a" && again.token == first.token)
        #expect(
            try await store.commit {
                try $0.renewLease(again, expiresAt: clock.now.addingTimeInterval(10), now: clock.now)
            })
        // Expired: another owner takes it, under a token the old holder's fence refuses.
        clock.advance(by: 11)
        let second = try await take("b", for: 10)
        #expect(second.owner == "b" && second.token != first.token)
        await #expect(throws: RotorError.self) { try await db.ledger.commit { try $0.fence(first) } }
        try await db.ledger.commit { try $0.fence(second) }
        #expect(
            try await !store.commit {
                try $0.renewLease(first, expiresAt: clock.now.addingTimeInterval(10), now: clock.now)
            })
        // Only the holder releases it.
        try await store.commit { try $0.releaseLease("contract", owner: "a") }
        #expect(try await store.read { try $0.lease("contract") }?.owner == "b")
        try await store.commit { try $0.releaseLease("contract", owner: "b") }
        #expect(try await store.read { try $0.lease("contract") } == nil)
        #expect(
            try await !store.commit {
                try $0.renewLease(second, expiresAt: clock.now.addingTimeInterval(10), now: clock.now)
            })
    }

    @Test(arguments: backends)
    func concurrentTakersOfOneLeaseGetOneHolder(_ backend: StoreBackend) async throws {
        let clock = InstantClock()
        let db = try await backend.make(clock)
        let store = db.store
        let holders = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<20 {
                group.addTask {
                    try await store.commit(durable: false) { writer in
                        try writer.acquireLease(
                            "contended", owner: "owner-\(index)", expiresAt: clock.now.addingTimeInterval(60),
                            now: clock.now
                        ).owner
                    }
                }
            }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(holders.count == 1)
    }

    // MARK: occurrences

    /// An (app, due time) is rotated at most once: claimed once, consumed by
    /// one rotation, retried only when nothing consumed it.
    @Test(arguments: backends)
    func anOccurrenceIsClaimedAndConsumedOnce(_ backend: StoreBackend) async throws {
        let clock = InstantClock()
        let db = try await backend.make(clock)
        let app = try await db.addApp("billing")
        let due = clock.now.addingTimeInterval(-60)
        let occurrence = OccurrenceRecord(
            appID: app.id, due: due, jitterMS: 0, startAt: due, covers: 1, state: .pending, rotationID: nil)
        let store = db.store
        #expect(try await store.commit { try $0.claimOccurrence(occurrence) })
        // A claim that recorded no rotation may be claimed again by the app's lease holder.
        #expect(try await store.commit { try $0.claimOccurrence(occurrence) })
        // A transient refusal puts it back to pending, one attempt more.
        try await store.commit {
            try $0.retryOccurrence(
                appID: app.id, due: due, retryAt: clock.now.addingTimeInterval(60), error: "HTTP 503", rotationID: nil)
        }
        let retried = try #require(try await store.read { try $0.occurrence(appID: app.id, due: due) })
        #expect(retried.state == .pending && retried.attempts == 1 && retried.lastError == "HTTP 503")
        #expect(try await store.commit { try $0.claimOccurrence(occurrence) })
        #expect(
            try await store.commit { try $0.finishOccurrence(appID: app.id, due: due, state: .done, rotationID: nil) })
        // Done: never claimed, finished or dropped again.
        #expect(try await !store.commit { try $0.claimOccurrence(occurrence) })
        #expect(
            try await !store.commit { try $0.finishOccurrence(appID: app.id, due: due, state: .done, rotationID: nil) })
        try await store.commit { try $0.dropPlannedOccurrences(appID: app.id) }
        #expect(try await store.read { try $0.occurrence(appID: app.id, due: due) }?.state == .done)
        // A planned (pending) one is dropped by an edit.
        let later = OccurrenceRecord(
            appID: app.id, due: due.addingTimeInterval(3600), jitterMS: 0, startAt: due.addingTimeInterval(3600),
            covers: 1, state: .pending, rotationID: nil)
        #expect(try await store.commit { try $0.claimOccurrence(later) })
        try await store.commit {
            try $0.retryOccurrence(appID: app.id, due: later.due, retryAt: clock.now, error: "x", rotationID: nil)
        }
        try await store.commit { try $0.dropPlannedOccurrences(appID: app.id) }
        #expect(try await store.read { try $0.occurrence(appID: app.id, due: later.due) } == nil)
    }

    @Test(arguments: backends)
    func concurrentClaimsOfOneOccurrenceConsumeItOnce(_ backend: StoreBackend) async throws {
        let clock = InstantClock()
        let db = try await backend.make(clock)
        let app = try await db.addApp("billing")
        let due = clock.now
        let occurrence = OccurrenceRecord(
            appID: app.id, due: due, jitterMS: 0, startAt: due, covers: 1, state: .pending, rotationID: nil)
        let store = db.store
        let consumed = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<10 {
                group.addTask {
                    try await store.commit { writer in
                        try writer.claimOccurrence(occurrence)
                            && writer.finishOccurrence(appID: app.id, due: due, state: .done, rotationID: nil)
                    }
                }
            }
            return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
        }
        #expect(consumed == 1)
    }

    // MARK: rotations

    /// A rotation's intent is one row with its token sealed for its own id;
    /// one unresolved rotation per app, enforced by the store.
    @Test(arguments: backends)
    func oneUnresolvedRotationPerAppWithItsTokenSealedForItsID(_ backend: StoreBackend) async throws {
        let db = try await backend.make(InstantClock())
        let app = try await db.addApp("billing")
        let other = try await db.addApp("crm")
        func intent(_ app: AppRecord, token: String) async throws -> RotationRecord {
            try await db.ledger.commit { tx in
                try tx.store.insertRotation(
                    NewRotation(appID: app.id, trigger: .manual, fromVersion: 1, authKind: .app), at: tx.now
                ) { id in try tx.keyring.seal(Secret(token), for: .rotationAuth(rotationID: id)) }
            }
        }
        let first = try await intent(app, token: "first-token")
        #expect(first.state == .requesting && first.attempts == 0 && first.finishedAt == nil)
        let stored = try #require(try await db.ledger.read { try $0.rotation(id: first.id) })
        #expect(stored == first)
        let box = try #require(stored.authToken)
        #expect(try db.ledger.keyring.open(box, for: .rotationAuth(rotationID: first.id)).reveal() == "first-token")
        // Sealed for that id only.
        #expect(throws: RotorError.self) {
            try db.ledger.keyring.open(box, for: .rotationAuth(rotationID: first.id + 1))
        }
        await #expect(throws: (any Error).self) { _ = try await intent(app, token: "second-token") }
        let elsewhere = try await intent(other, token: "crm-token")
        #expect(elsewhere.id > first.id)
        #expect(try await db.ledger.read { try $0.unresolvedRotation(appID: app.id)?.id } == first.id)
        // Once resolved, the app may rotate again.
        var aborted = first
        aborted.state = .aborted
        aborted.finishedAt = first.startedAt
        aborted.authToken = nil
        try await db.ledger.commit { [aborted] in try $0.store.updateRotation(aborted) }
        #expect(try await db.ledger.read { try $0.rotation(id: first.id) } == aborted)
        let next = try await intent(app, token: "third-token")
        #expect(next.id > elsewhere.id)
        #expect(try await db.ledger.read { try $0.openRotations().map(\.id).sorted() } == [elsewhere.id, next.id])
    }

    // MARK: targets and alerts

    /// A target's and an alert's settings change in place: same id, same
    /// kind, and a webhook's sealed headers and a target's deliveries stay.
    @Test(arguments: backends)
    func targetsAndAlertsAreUpdatedInPlace(_ backend: StoreBackend) async throws {
        let db = try await backend.make(InstantClock())
        let app = try await db.addApp("billing")
        let targets = TargetRegistry(ledger: db.ledger)
        let file = try await targets.add(app: "billing", .file(FileTarget(path: "/etc/billing.env")))
        let hook = try await targets.add(
            app: "billing", .webhook(WebhookTarget(url: "https://hooks.example.com/x")), headers: ["X-Token: t"])
        try await db.ledger.commit { tx in
            try tx.store.saveDelivery(DeliveryRecord(targetID: file.id, version: 1, rotationID: nil, state: .succeeded))
        }
        var changedFile = file
        changedFile.kind = .file(
            FileTarget(
                path: "/etc/billing.env", format: .json, mode: 0o640, inPlace: true, owner: "billing", group: "app"))
        changedFile.check = ConsumerCheck(command: "billing-check", timeout: 60)
        let sealed = try #require(try await db.ledger.read { try $0.target(id: hook.id) })
        var changedHook = sealed
        changedHook.kind = .webhook(
            WebhookTarget(
                url: "https://hooks.example.com/x",
                sealedHeaders: {
                    if case .webhook(let w) = sealed.kind { return w.sealedHeaders }
                    return nil
                }(), secretFile: "/etc/rotor/hook.key", timeout: 10))
        try await db.ledger.commit { [changedFile, changedHook] tx in
            try tx.store.updateTarget(changedFile)
            try tx.store.updateTarget(changedHook)
        }
        #expect(try await db.ledger.read { try $0.target(id: file.id) } == changedFile)
        #expect(try await db.ledger.read { try $0.target(id: hook.id) } == changedHook)
        let delivered = try await db.ledger.read { try $0.delivery(targetID: file.id, version: 1) }
        #expect(delivered?.state == DeliveryRecord.State.succeeded)
        #expect(try await db.ledger.read { try $0.targets(appID: app.id).map(\.id) } == [file.id, hook.id])
        // The kind is not changed by an update.
        let otherKind = TargetRecord(
            id: file.id, appID: app.id, kind: .exec(ExecTarget(command: "true")), enabled: true,
            createdAt: file.createdAt)
        await #expect(throws: (any Error).self) {
            try await db.ledger.commit { tx in try tx.store.updateTarget(otherKind) }
        }
        #expect(try await db.ledger.read { try $0.target(id: file.id) } == changedFile)

        let alert = try await targets.addAlert(command: "page-oncall", timeout: 30)
        var changedAlert = alert
        changedAlert.timeout = 5
        changedAlert.events = [.completed, .failed]
        try await db.ledger.commit { [changedAlert] in try $0.store.updateAlert(changedAlert) }
        #expect(try await db.ledger.read { try $0.alerts() } == [changedAlert])
    }

    /// Queued alerts: listed when due, oldest first; updated, deleted, and
    /// gone with their alert.
    @Test(arguments: backends)
    func queuedAlertsWaitForTheirTimeAndGoWithTheirAlert(_ backend: StoreBackend) async throws {
        let clock = InstantClock()
        let db = try await backend.make(clock)
        let targets = TargetRegistry(ledger: db.ledger)
        let pager = try await targets.addAlert(command: "page-oncall", timeout: 30)
        let chat = try await targets.addAlert(command: "post-to-chat", timeout: 30)
        let now = clock.now
        @Sendable func item(_ alert: AlertRecord, in seconds: TimeInterval) -> QueuedAlert {
            QueuedAlert(
                alertID: alert.id, event: "rotation.failed", app: "billing", severity: "critical",
                document: "{\"event\":\"rotation.failed\"}\n", attempts: 1,
                nextAttemptAt: now.addingTimeInterval(seconds),
                lastError: "exit 1", createdAt: now)
        }
        let first = try await db.ledger.commit { try $0.store.insertQueuedAlert(item(pager, in: 30)) }
        let second = try await db.ledger.commit { try $0.store.insertQueuedAlert(item(chat, in: 10)) }
        #expect(try await db.ledger.read { try $0.queuedAlerts(dueBy: now) }.isEmpty)
        let due = try await db.ledger.read { try $0.queuedAlerts(dueBy: now.addingTimeInterval(60)) }
        #expect(due.map(\.id) == [first, second])
        #expect(
            due.first
                == {
                    var expected = item(pager, in: 30); expected.id = first; return expected
                }())
        #expect(try await db.ledger.read { try $0.nextRetryTime() } == now.addingTimeInterval(10))
        var moved = try #require(due.last)
        moved.attempts = 2
        moved.nextAttemptAt = now.addingTimeInterval(120)
        moved.lastError = "the webhook answered 503"
        try await db.ledger.commit { [moved] in try $0.store.updateQueuedAlert(moved) }
        #expect(try await db.ledger.read { try $0.queuedAlerts(dueBy: now.addingTimeInterval(120)) }.last == moved)
        try await db.ledger.commit { try $0.store.deleteQueuedAlert(id: first) }
        try await targets.removeAlert(id: chat.id)
        #expect(try await db.ledger.read { try $0.queuedAlerts(dueBy: .distantFuture) }.isEmpty)
        #expect(try await db.ledger.read { try $0.nextRetryTime() } == nil)
    }

    // MARK: sealed values and versions

    @Test(arguments: backends)
    func everySealedValueIsListedAndCanBeReplaced(_ backend: StoreBackend) async throws {
        let db = try await backend.make(InstantClock())
        let app = try await db.addApp("billing", secret: "first-secret")
        var changes = AppChanges()
        changes.pair = ClientPair(clientID: "client-2", secret: Secret("second-secret"))
        try await db.registry.set("billing", changes, verify: false)
        let values = try await db.ledger.read { try $0.sealedValues() }
        let secrets = values.filter {
            if case .clientSecret(let appID, _) = $0.slot { return appID == app.id }
            return false
        }
        #expect(secrets.count == 2)
        #expect(values.contains { $0.slot == .derivationRoot })
        let slot = SealSlot.clientSecret(appID: app.id, version: 2)
        let replacement = try db.ledger.keyring.seal(Secret("replaced-secret"), for: slot)
        try await db.ledger.commit { try $0.store.replaceSealedValue(slot, with: replacement) }
        let credential = try #require(try await db.ledger.read { try $0.credential(appID: app.id, version: 2) })
        #expect(credential.sealedSecret == replacement)
        // A wiped secret leaves the version and its fingerprint.
        try await db.ledger.commit { try $0.store.wipeSecret(appID: app.id, version: 1) }
        let wiped = try #require(try await db.ledger.read { try $0.credential(appID: app.id, version: 1) })
        #expect(wiped.sealedSecret == nil && !wiped.fingerprint.isEmpty)
        #expect(try await db.ledger.read { try $0.app(id: app.id)?.currentVersion } == 2)
    }

    // MARK: audit

    @Test(arguments: backends)
    func aPrunedChainStillVerifiesFromItsNewBase(_ backend: StoreBackend) async throws {
        let clock = InstantClock()
        let db = try await backend.make(clock)
        for name in ["a", "b", "c", "d"] {
            try await db.addApp(name)
            clock.advance(by: 86400)
        }
        let head = try #require(try await db.ledger.read { try $0.auditHead() })
        let pruned = try await AuditLog(ledger: db.ledger).prune(
            before: RFC3339.format(clock.now.addingTimeInterval(-86400 * 2)))
        #expect(pruned.removed > 0)
        let after = try #require(try await db.ledger.read { try $0.auditHead() })
        #expect(after.lastID == head.lastID + 1)  // the prune itself is audited
        #expect(after.baseID == pruned.baseID)
        #expect(try await AuditLog(ledger: db.ledger).verify().isIntact)
        #expect(try await db.ledger.read { try $0.auditEvents(ids: 1...pruned.baseID) }.isEmpty)
    }
}
