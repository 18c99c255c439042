import Foundation

/// A `rotor run` process sharing the database (postgres.md, "Operating
/// it"): recorded when it starts and seen again while it runs, so that
/// `rotor status` can tell which nodes are alive and which hold what.
public struct NodeRecord: Sendable, Equatable {
    public var name: String
    public var pid: Int64
    public var version: String
    public var startedAt: Date
    public var seenAt: Date

    public init(name: String, pid: Int64, version: String, startedAt: Date, seenAt: Date) {
        self.name = name
        self.pid = pid
        self.version = version
        self.startedAt = startedAt
        self.seenAt = seenAt
    }

    /// How often a running node records that it is alive.
    public static let heartbeat: TimeInterval = 30

    /// Whether the node was seen recently enough to count as running.
    public func isAlive(now: Date) -> Bool {
        now.timeIntervalSince(seenAt) < 3 * Self.heartbeat
    }
}

/// A lease as `rotor status` shows it: the node that holds it.
extension Lease {
    /// The node part of the owner (`node/pid/nonce`).
    public var node: String {
        LeaseOwner.presence(of: owner).map { String($0.prefix { $0 != "/" }) } ?? owner
    }
}

/// The nodes sharing the database and what each holds now, for `rotor
/// status`, the status page and the metrics.
public struct NodeStatus: Sendable {
    public var name: String
    /// nil for a process that is not a recorded `rotor run` (a `rotor rotate` by hand).
    public var record: NodeRecord?
    public var alive: Bool
    /// The leases it holds, as people read them: `app billing`, `group pair`.
    public var holds: [String]

    public var json: JSONValue {
        [
            "node": .string(name), "alive": .bool(alive), "pid": .optional(record?.pid),
            "version": .optional(record?.version), "started_at": .optional(record.map { RFC3339.format($0.startedAt) }),
            "last_seen_at": .optional(record.map { RFC3339.format($0.seenAt) }),
            "holds": .array(holds.map { .string($0) }),
        ]
    }

    /// Every recorded node and every holder of a live lease, by name; and
    /// the node holding each app's lease.
    public static func read(_ reader: any StoreReader, now: Date) throws -> (
        nodes: [NodeStatus], appHolders: [Int64: String]
    ) {
        var nodes: [String: NodeStatus] = [:]
        for record in try reader.nodes() {
            nodes[record.name] = NodeStatus(
                name: record.name, record: record, alive: record.isAlive(now: now), holds: [])
        }
        var appHolders: [Int64: String] = [:]
        let groups = Dictionary(
            try reader.groups().map { ("group:\($0.id)", $0.name) }, uniquingKeysWith: { a, _ in a })
        for lease in try reader.leases(activeAt: now) {
            let node = lease.node
            var shown = lease.name
            if lease.name.hasPrefix("app:"), let id = Int64(lease.name.dropFirst(4)) {
                appHolders[id] = node
                shown = try reader.app(id: id).map { "app \($0.name)" } ?? lease.name
            } else if let group = groups[lease.name] {
                shown = "group \(group)"
            }
            nodes[node, default: NodeStatus(name: node, record: nil, alive: true, holds: [])].holds.append(shown)
        }
        return (nodes.values.sorted { $0.name < $1.name }, appHolders)
    }
}
