import Foundation

/// How far a long operation has come: `done` of `total` units.
public typealias ProgressReport = @Sendable (_ done: Int, _ total: Int) -> Void
