import Foundation

/// One rotation on its way through the steps (intent → request → store →
/// verify → deliver): the app and the lease it runs under, the rotation as
/// last stored, and the pairs in hand. Each step takes it `inout` and
/// leaves it as the next step needs it; nothing is read back that it holds.
struct RotationContext: Sendable {
    /// The app as read under the lease (a rotation changes only its version).
    var app: AppRecord
    let lease: Lease
    /// The rotation as it was last stored.
    var record: RotationRecord
    /// The stored pair the rotation started from, when it was read to sign in.
    var currentPair: ClientPair?
    /// The pair of `record.toVersion`, once this process stored or read it.
    var newPair: ClientPair?

    init(app: AppRecord, lease: Lease, record: RotationRecord, currentPair: ClientPair? = nil) {
        self.app = app
        self.lease = lease
        self.record = record
        self.currentPair = currentPair
    }
}

/// What a rotation reads in the transaction that takes its lease: the app as
/// it is now, any unresolved rotation, and the stored pair to sign in with.
struct RotationStart: Sendable {
    var app: AppRecord?
    var open: RotationSummary?
    var pair: ClientPair?

    static func read(appID: Int64, in reader: any StoreReader, engine: RotationEngine) throws -> RotationStart {
        guard let app = try reader.app(id: appID) else { return RotationStart() }
        let open = try reader.unresolvedRotation(appID: app.id)
        return RotationStart(
            app: app, open: open,
            pair: app.identityID == nil && open == nil ? try engine.currentPair(app, in: reader) : nil)
    }
}
