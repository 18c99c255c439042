import Foundation

/// What runs an alert hook (`rotor alert add --on EVENTS`).
public enum AlertEvent: String, Sendable, CaseIterable, Comparable {
    /// A rotation's new pair keeps failing verification; Rotor keeps retrying.
    case failed
    /// A rotation's answer is lost: the pair may be gone.
    case lost
    /// An app waits for a person (a clear refusal, a pair changed outside Rotor).
    case needsAction = "needs_action"
    /// A delivery failed past its retry budget; Rotor keeps retrying.
    case deliveryFailed = "delivery_failed"
    /// A consumer check never passed.
    case checkFailed = "check_failed"
    /// A rotation completed: verified and delivered everywhere.
    case completed

    /// A hook added without `--on`: every event but `completed`.
    public static let defaults: Set<AlertEvent> = Set(allCases).subtracting([.completed])

    /// `info`, `warning` (Rotor keeps retrying) or `critical` (a person must act).
    public var severity: String {
        switch self {
        case .completed: "info"
        case .failed, .deliveryFailed, .checkFailed: "warning"
        case .lost, .needsAction: "critical"
        }
    }

    /// The document's `event` field, as hooks have always received it.
    public var documentName: String {
        switch self {
        case .failed: "rotation.failed"
        case .lost: "rotation.lost"
        case .needsAction: "needs_action"
        case .deliveryFailed: "delivery.failed"
        case .checkFailed: "check.failed"
        case .completed: "rotation.completed"
        }
    }

    /// Parses `--on`: a comma list of event names.
    public static func parse(_ text: String) throws(RotorError) -> Set<AlertEvent> {
        var events: Set<AlertEvent> = []
        for name in text.split(separator: ",", omittingEmptySubsequences: false) {
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            guard let event = AlertEvent(rawValue: trimmed) else {
                throw RotorError(
                    .invalidInput,
                    "--on takes a comma list of \(allCases.map(\.rawValue).joined(separator: ", ")), not \(UserText.quoted(String(name)))"
                )
            }
            events.insert(event)
        }
        return events
    }

    /// The stored form: names in a fixed order, comma separated.
    public static func text(_ events: Set<AlertEvent>) -> String {
        events.sorted().map(\.rawValue).joined(separator: ",")
    }

    /// The stored form read back; nil (a hook from before `--on`) and damaged names fall back to the defaults.
    public static func stored(_ text: String?) -> Set<AlertEvent> {
        guard let text, let events = try? parse(text), !events.isEmpty else { return defaults }
        return events
    }

    public static func < (a: AlertEvent, b: AlertEvent) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
