import Foundation

/// The persistence interface the core owns. The rotation engine, the
/// registry and the audit log speak only to this; the SQLite store and the
/// PostgreSQL store sit behind it, and every backend passes the
/// same contract suite (`Tests/RotorTests/Store/StoreContractTests.swift`).
///
/// Callers suspend, never block: ``read(_:)`` and ``commit(durable:_:)`` are
/// async. The body of a transaction is synchronous and runs on the backend's
/// own thread, where it may wait for the database (SQLite's busy timeout, a
/// PostgreSQL round trip) without holding a thread of Swift's cooperative
/// pool. Keeping bodies synchronous is what lets a backend run the bodies of
/// concurrent callers in one transaction, each atomic on its own, and flush
/// them together (group commit).
///
/// Every write holds the write lock from its first statement (`BEGIN
/// IMMEDIATE` in SQLite, `SELECT … FOR UPDATE` on the audit head in
/// PostgreSQL), so a change and its audit event commit together.
public protocol Store: Sendable {
    /// Runs `body` in one read transaction; it sees every commit that
    /// returned before it was called.
    func read<T: Sendable>(_ body: @escaping @Sendable (any StoreReader) throws -> T) async throws -> T
    /// Runs `body` as one atomic write; a thrown error undoes it alone. With
    /// `durable` it returns once the commit is durable; without, once it is
    /// committed and visible (a power cut may lose it, a crash of the process
    /// cannot). Commits become durable in the order they were made: a durable
    /// commit makes every earlier one durable too. In PostgreSQL, `durable:
    /// false` is `SET LOCAL synchronous_commit = off`. A backend may run a
    /// body more than once and keep the last run (PostgreSQL runs the
    /// others of a group commit again when one throws), so a body does
    /// nothing but read and write through its writer.
    func commit<T: Sendable>(durable: Bool, _ body: @escaping @Sendable (any StoreWriter) throws -> T)
        async throws -> T
    /// Returns once every commit made so far is durable.
    func flush() async throws
    /// A mark that moves whenever another process may have committed a
    /// change; two equal marks mean nothing changed in between. A backend may
    /// move it more often than needed (a write that changed nothing), never
    /// less. The scheduler's idle pass reads no app while it stands still.
    func changeMark() async throws -> Int64
    /// Schema versions known to this build and not yet applied.
    func pendingMigrations() async throws -> [String]
    /// Applies pending schema migrations, each in its own transaction.
    func migrate() async throws
    /// Writes an online, consistent copy of the whole database to
    /// `destination`, a new SQLite file with mode 0600, synced to disk.
    /// Refuses to overwrite a file.
    func backup(to destination: String) async throws
    /// Waits for the commits in flight to be durable, then closes the
    /// database; nothing may be asked of the store afterwards. SQLite moves
    /// the WAL into the database file and removes it when this was the last
    /// connection.
    func close() async throws
}

extension Store {
    /// Runs `body` as one atomic write and returns once it is durable.
    public func commit<T: Sendable>(_ body: @escaping @Sendable (any StoreWriter) throws -> T) async throws -> T {
        try await commit(durable: true, body)
    }
}

/// Queries inside a transaction.
public protocol StoreReader {
    func meta(_ key: MetaKey) throws -> String?

    func app(named name: String) throws -> AppRecord?
    func app(id: Int64) throws -> AppRecord?
    func apps() throws -> [AppRecord]
    /// Calls `body` with each app and when its current pair was stored, one
    /// row at a time (a pass over 100,000 apps holds none of them): by name,
    /// or with `schedulable` only those the scheduler may rotate on their own
    /// schedule (enabled, with a schedule, not waiting for an operator, not
    /// in a group), in no set order.
    func forEachApp(schedulable: Bool, _ body: (AppRecord, Date) throws -> Void) throws
    func credential(appID: Int64, version: Int) throws -> CredentialRecord?
    /// Each app's current credential, keyed by app id, for listings: the
    /// sealed secret is not read (nil); ``credential(appID:version:)`` has it.
    func currentCredentials() throws -> [Int64: CredentialRecord]

    /// Who may ask the token broker for the app's token, as stored (`uid:N`, `group:NAME`), sorted.
    func tokenClients(appID: Int64) throws -> [String]

    func identity(named name: String) throws -> IdentitySummary?
    func identity(id: Int64) throws -> IdentitySummary?
    func identities() throws -> [IdentitySummary]
    /// The sealed password and tokens of an identity.
    func identitySecrets(id: Int64) throws -> IdentitySecrets?

    /// The newest rotation of each app, keyed by app id.
    func latestRotations() throws -> [Int64: RotationSummary]
    func rotations(appID: Int64?, limit: Int) throws -> [RotationSummary]
    func unresolvedRotation(appID: Int64) throws -> RotationSummary?

    func rotation(id: Int64) throws -> RotationRecord?
    /// Rotations in a state that still needs work (requesting, rotated, verified, failed).
    func openRotations() throws -> [RotationRecord]

    func lease(_ name: String) throws -> Lease?
    /// Every lease not expired at `now`, by name.
    func leases(activeAt now: Date) throws -> [Lease]
    /// Every `rotor run` process recorded, by name.
    func nodes() throws -> [NodeRecord]

    func targets(appID: Int64) throws -> [TargetRecord]
    /// The enabled targets that have not received their app's current
    /// version, or received it and their consumer check did not pass (their
    /// IDs, with that version's delivery if there is one), by app, each list
    /// ordered by target ID. Usually few, however many apps there are; a
    /// damaged target row is listed like any other.
    func unsettledTargets() throws -> [Int64: [(targetID: Int64, delivery: DeliveryRecord?)]]
    func target(id: Int64) throws -> TargetRecord?
    func delivery(targetID: Int64, version: Int) throws -> DeliveryRecord?
    /// Every delivery of an app's targets, newest version first.
    func deliveries(appID: Int64) throws -> [DeliveryRecord]
    /// The newest version a target has received.
    func latestDeliveredVersion(targetID: Int64) throws -> Int?
    func alerts() throws -> [AlertRecord]

    /// Every group, by name.
    func groups() throws -> [GroupRecord]
    /// A group's targets (file and exec), by ID; `appID` holds the group's ID.
    func groupTargets(groupID: Int64) throws -> [TargetRecord]
    func groupDelivery(targetID: Int64, version: Int) throws -> DeliveryRecord?
    /// Queued alerts whose next attempt is at or before `time`, oldest first.
    func queuedAlerts(dueBy time: Date) throws -> [QueuedAlert]

    /// The occurrence of an app with the latest due time.
    func latestOccurrence(appID: Int64) throws -> OccurrenceRecord?
    func occurrence(appID: Int64, due: Date) throws -> OccurrenceRecord?
    /// Pending and started occurrences, keyed by app id.
    func activeOccurrences() throws -> [Int64: [OccurrenceRecord]]
    /// Apps without an unresolved rotation whose current version is due at an
    /// enabled target: never delivered there (a new target), or failed and
    /// its retry time has come.
    func appsWithDueDeliveries(at time: Date) throws -> [Int64]
    /// The earliest retry of a failed delivery of `version` to the app's enabled targets.
    func nextDeliveryAttempt(appID: Int64, version: Int) throws -> Date?
    /// The earliest retry time of any failed or pending delivery, open rotation or queued alert.
    func nextRetryTime() throws -> Date?
    func auditHead() throws -> AuditHead?
    /// Events with ids in `range`, ascending.
    func auditEvents(ids range: ClosedRange<Int64>) throws -> [AuditEvent]
    /// Events matching `query`, newest first (or oldest first with `ascending`).
    func auditEvents(matching query: AuditQuery) throws -> [AuditEvent]

    /// Every sealed value in the database, for re-encryption under a new key.
    func sealedValues() throws -> [SealedValue]
}

/// Changes inside a write transaction.
public protocol StoreWriter: StoreReader {
    /// Records `node` as running (inserted, or its row replaced).
    func recordNode(_ node: NodeRecord) throws
    func setMeta(_ key: MetaKey, _ value: String) throws

    func insertApp(_ app: NewApp, at time: Date) throws -> Int64
    func updateApp(_ app: AppRecord) throws
    func deleteApp(id: Int64) throws
    func insertCredential(_ credential: CredentialRecord) throws
    /// Replaces the app's token clients.
    func setTokenClients(appID: Int64, _ clients: [String]) throws

    /// Inserts an identity with an empty password box; the caller seals the
    /// password for the new id and stores it with ``updateIdentitySecrets(id:_:)``.
    func insertIdentity(name: String, username: String, apiURL: String, at time: Date) throws -> Int64
    func updateIdentitySecrets(id: Int64, _ secrets: IdentitySecrets, at time: Date) throws
    func deleteIdentity(id: Int64) throws

    /// Records a rotation's intent (state `requesting`) with the token that
    /// authorises it, sealed by `authToken` for the id the rotation gets, in
    /// one row; returns the rotation as stored.
    func insertRotation(_ rotation: NewRotation, at time: Date, authToken: (Int64) throws -> Data) throws
        -> RotationRecord
    /// Writes every mutable field of a rotation back.
    func updateRotation(_ rotation: RotationRecord) throws
    /// Drops a superseded secret; the version row and its fingerprint stay.
    func wipeSecret(appID: Int64, version: Int) throws

    /// Takes the lease `name` for `owner` until `expiresAt` if it is free,
    /// expired or already `owner`'s; a new holder gets a fencing token that
    /// differs from the last holder's (``LedgerTransaction/fence(_:)`` checks
    /// owner and token together). Returns the lease as it now stands (whoever holds it). A backend
    /// may also take over a lease whose holder it knows to be gone before it
    /// expires (SQLite: an owner process on this host that no longer runs).
    func acquireLease(_ name: String, owner: String, expiresAt: Date, now: Date) throws -> Lease
    func releaseLease(_ name: String, owner: String) throws
    /// Extends `lease` until `expiresAt` if it is still held as it was taken
    /// (same owner, same fencing token); false when it is not. It never
    /// takes a lease that was released or taken over.
    func renewLease(_ lease: Lease, expiresAt: Date, now: Date) throws -> Bool

    func insertTarget(appID: Int64, _ kind: TargetKind, check: ConsumerCheck?, at time: Date) throws -> Int64
    /// Stores a webhook target's sealed headers, sealed for the id the target got.
    func setTargetHeaders(id: Int64, _ box: Data) throws
    /// Writes a target's settings back (its kind's fields and its check),
    /// keeping its id, kind, app, sealed headers and deliveries.
    func updateTarget(_ target: TargetRecord) throws
    func deleteTarget(id: Int64) throws
    func saveDelivery(_ delivery: DeliveryRecord) throws
    /// Inserts an exec hook (`command`) or, with `webhook`, a webhook alert.
    func insertAlert(
        command: String, timeout: TimeInterval, events: Set<AlertEvent>, webhook: WebhookTarget?, at time: Date
    ) throws -> Int64
    /// Records `occurrence` as `started`: inserted if new, or moved from
    /// `pending` (or from a `started` claim that recorded no rotation, whose
    /// process is gone since the caller holds the app's lease). False when
    /// it is done, skipped, or claimed with a rotation already.
    func claimOccurrence(_ occurrence: OccurrenceRecord) throws -> Bool
    /// Puts an occurrence back to `pending`, tried once more, not before
    /// `retryAt`: a transient refusal is retried within its occurrence. It
    /// must be claimed without a rotation (`rotationID` nil) or consumed by
    /// rotation `rotationID`.
    func retryOccurrence(appID: Int64, due: Date, retryAt: Date, error: String, rotationID: Int64?) throws
    /// Drops the app's occurrences that are planned and not started: an edit replaces them.
    func dropPlannedOccurrences(appID: Int64) throws
    /// Moves a claimed (`started`) occurrence to `state`; false when it was
    /// not claimed (another process finished it, or it was never claimed).
    @discardableResult
    func finishOccurrence(appID: Int64, due: Date, state: OccurrenceRecord.State, rotationID: Int64?) throws -> Bool
    /// Writes an alert's settings back (command or URL, key file, timeout, events), keeping its id and kind.
    func updateAlert(_ alert: AlertRecord) throws
    func deleteAlert(id: Int64) throws
    /// Inserts a group and its members; returns its ID.
    func insertGroup(_ group: GroupRecord) throws -> Int64
    /// Deletes a group, its targets and their deliveries; its members stay as apps.
    func deleteGroup(id: Int64) throws
    func insertGroupTarget(groupID: Int64, _ kind: TargetKind, at time: Date) throws -> Int64
    func deleteGroupTarget(id: Int64) throws
    func saveGroupDelivery(_ delivery: DeliveryRecord) throws
    /// Queues an alert to send again; returns its id. Removing the alert drops its queued sends.
    func insertQueuedAlert(_ alert: QueuedAlert) throws -> Int64
    func updateQueuedAlert(_ alert: QueuedAlert) throws
    func deleteQueuedAlert(id: Int64) throws

    func appendAudit(_ event: AuditEvent, head: AuditHead) throws
    /// Deletes the events with ids up to `id` and moves the chain's base there.
    func pruneAudit(through id: Int64, head: AuditHead) throws
    func replaceSealedValue(_ slot: SealSlot, with box: Data) throws
}

/// An identity's sealed password and tokens.
public struct IdentitySecrets: Sendable, Equatable {
    public var password: Data
    public var accessToken: Data?
    public var accessExpiresAt: Date?
    public var refreshToken: Data?

    public init(password: Data, accessToken: Data?, accessExpiresAt: Date?, refreshToken: Data?) {
        self.password = password
        self.accessToken = accessToken
        self.accessExpiresAt = accessExpiresAt
        self.refreshToken = refreshToken
    }
}

/// Keys of the `meta` table.
public enum MetaKey: String, Sendable {
    case databaseID = "database_id"
    case keyID = "key_id"
    case keyCheck = "key_check"
    case derivationRoot = "derivation_root"
    case createdAt = "created_at"
}

/// A sealed value and where it lives.
public struct SealedValue: Sendable {
    public var slot: SealSlot
    public var box: Data

    public init(slot: SealSlot, box: Data) {
        self.slot = slot
        self.box = box
    }
}

/// An app to insert; the store assigns the id.
public struct NewApp: Sendable {
    public var name: String
    public var applicationID: String
    public var apiURL: String
    public var schedule: Schedule
    public var jitter: Int64
    public var window: TimeWindow?
    public var timezone: String
    public var identityID: Int64?

    public init(
        name: String, applicationID: String, apiURL: String, schedule: Schedule, jitter: Int64, window: TimeWindow?,
        timezone: String, identityID: Int64?
    ) {
        self.name = name
        self.applicationID = applicationID
        self.apiURL = apiURL
        self.schedule = schedule
        self.jitter = jitter
        self.window = window
        self.timezone = timezone
        self.identityID = identityID
    }
}

/// A filter over the audit log.
public struct AuditQuery: Sendable, Equatable {
    public var app: String?
    public var action: String?
    public var outcome: AuditOutcome?
    /// RFC 3339 UTC with milliseconds, inclusive.
    public var since: String?
    /// RFC 3339 UTC with milliseconds, exclusive.
    public var until: String?
    /// Only events with a larger id.
    public var afterID: Int64?
    public var limit: Int?
    public var ascending: Bool
    /// Order by id alone (the chain's order) rather than by time.
    public var byID: Bool

    public init(
        app: String? = nil, action: String? = nil, outcome: AuditOutcome? = nil, since: String? = nil,
        until: String? = nil, afterID: Int64? = nil, limit: Int? = nil, ascending: Bool = false, byID: Bool = false
    ) {
        self.app = app
        self.action = action
        self.outcome = outcome
        self.since = since
        self.until = until
        self.afterID = afterID
        self.limit = limit
        self.ascending = ascending
        self.byID = byID
    }
}
