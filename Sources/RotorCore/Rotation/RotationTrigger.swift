import Foundation

public enum RotationTrigger: String, Sendable, CaseIterable {
    case schedule, manual, recovery
}
