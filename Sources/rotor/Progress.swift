import Foundation
import RotorCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Progress of a long operation on stderr (cli.md, "Terminal manners"):
/// count, total, rate and time left, on one line rewritten in place. Only
/// when stderr is a terminal, and only once the operation has taken a
/// second (`ROTOR_PROGRESS_AFTER`, seconds); the line is cleared when it ends.
final class Progress: Sendable {
    let label: String
    let enabled: Bool
    /// Counts bytes, shown in MiB.
    let bytes: Bool
    private let start = ContinuousClock.now
    private let after: Duration = {
        let text = ProcessInfo.processInfo.environment["ROTOR_PROGRESS_AFTER"] ?? ""
        return .seconds(Int(text).map { min(max($0, 0), 3600) } ?? 1)
    }()
    private let state = Mutex<(shown: Bool, last: ContinuousClock.Instant?)>((false, nil))

    init(_ label: String, bytes: Bool = false, enabled: Bool = isatty(STDERR_FILENO) == 1) {
        self.label = label
        self.bytes = bytes
        self.enabled = enabled
    }

    /// The callback the library calls as it goes.
    var report: ProgressReport { { [self] done, total in self.update(done, of: total) } }

    func update(_ done: Int, of total: Int) {
        guard enabled, total > 0 else { return }
        let now = ContinuousClock.now
        let elapsed = now - start
        guard elapsed >= after else { return }
        let due = state.withLock { state -> Bool in
            if let last = state.last, now - last < .milliseconds(100), done < total { return false }
            state = (true, now)
            return true
        }
        guard due else { return }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = Double(done) / max(seconds, 0.001)
        let left = rate > 0 ? Int64((Double(max(total - done, 0)) / rate).rounded(.up)) : nil
        let percent = min(done * 100 / total, 100)
        func amount(_ value: Double) -> String {
            bytes ? String(format: "%.1f", value / 1_048_576) : String(Int(value.rounded()))
        }
        let unit = bytes ? " MiB" : ""
        var line =
            "\r\u{1B}[K\(label): \(amount(Double(done)))/\(amount(Double(total)))\(unit) (\(percent)%), \(amount(rate))\(unit)/s"
        if let left, done < total { line += ", \(DurationText.age(left)) left" }
        Console.writeError(line)
    }

    /// Clears the line, if one is shown; the report's own lines come after it.
    func finish() {
        let shown = state.withLock { state in
            defer { state.shown = false }
            return state.shown
        }
        if shown { Console.writeError("\r\u{1B}[K") }
    }
}
