import Foundation

/// The states of `rotation.md`.
public enum RotationState: String, Sendable, CaseIterable {
    case requesting, rotated, verified, completed, aborted, failed, lost

    /// States that block a new rotation of the same app.
    public var isUnresolved: Bool {
        switch self {
        case .requesting, .rotated, .verified, .failed: true
        case .completed, .aborted, .lost: false
        }
    }
}
