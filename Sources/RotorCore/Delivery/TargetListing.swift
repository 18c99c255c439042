import Foundation

/// One target as `rotor target list` and the status page show it: its
/// latest delivery and the state of cli.md (`delivered`, `confirmed` once
/// its consumer check passed, `pending`, `retrying`, `failed`; `disabled`
/// for a disabled target).
public struct TargetListing: Sendable {
    public var target: TargetRecord
    /// The delivery of the newest version tried.
    public var latest: DeliveryRecord?
    /// The newest version this target holds.
    public var deliveredVersion: Int?
    public var state: String

    /// Every target of `app`, in id order.
    public static func all(of app: AppRecord, in reader: any StoreReader) throws -> [TargetListing] {
        let deliveries = try reader.deliveries(appID: app.id)
        return try reader.targets(appID: app.id).map { target in
            let mine = deliveries.filter { $0.targetID == target.id }
            let latest = mine.first
            return TargetListing(
                target: target, latest: latest,
                deliveredVersion: mine.first { $0.state == .succeeded }?.version,
                state: state(target, latest: latest, currentVersion: app.currentVersion))
        }
    }

    static func state(_ target: TargetRecord, latest: DeliveryRecord?, currentVersion: Int) -> String {
        guard target.enabled else { return "disabled" }
        guard let latest, latest.version >= currentVersion else { return "pending" }
        switch latest.state {
        case .succeeded: return latest.confirmedAt == nil ? "delivered" : "confirmed"
        case .pending, .superseded: return "pending"
        case .failed: return latest.attempts >= StatusReport.deliveryBudget ? "failed" : "retrying"
        }
    }
}
