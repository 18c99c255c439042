import Foundation

/// Who may ask the token broker for an app's token: a user ID (`uid:1001`)
/// or the members of a group (`group:billing`), checked against the
/// credentials the kernel gives for the socket's peer (`SO_PEERCRED`), never
/// against anything the client sends.
public enum TokenClient: Sendable, Hashable, CustomStringConvertible {
    case uid(UInt32)
    case group(String)

    /// `uid:N` or `group:NAME`.
    public init(parsing text: String) throws(RotorError) {
        if text.hasPrefix("uid:"), let uid = UInt32(text.dropFirst(4)) {
            self = .uid(uid)
            return
        }
        if text.hasPrefix("group:") {
            let name = String(text.dropFirst(6))
            let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
            if !name.isEmpty, name.count <= 64, name.allSatisfy({ allowed.contains($0) }) {
                self = .group(name)
                return
            }
        }
        throw RotorError(
            .invalidInput,
            "--token-client takes uid:N or group:NAME (like uid:1001 or group:billing), not \(UserText.quoted(text))")
    }

    public var description: String {
        switch self {
        case .uid(let uid): "uid:\(uid)"
        case .group(let name): "group:\(name)"
        }
    }

    /// Whether `peer` is this client: its user ID, or a member of the group
    /// (its primary group, or a supplementary group of its process).
    public func allows(_ peer: PeerCredentials) -> Bool {
        switch self {
        case .uid(let uid):
            return peer.uid == uid
        case .group(let name):
            guard let entry = getgrnam(name) else { return false }
            let gid = entry.pointee.gr_gid
            return peer.gid == gid || peer.groups.contains(gid)
        }
    }
}

/// The credentials of a socket's peer, from the kernel.
public struct PeerCredentials: Sendable, Equatable {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32
    /// Supplementary groups of the peer's process (`/proc/PID/status`), when readable.
    public var groups: [UInt32]

    public init(pid: Int32, uid: UInt32, gid: UInt32, groups: [UInt32] = []) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
        self.groups = groups
    }

    /// The supplementary groups of process `pid`, read from `/proc`; empty when it is gone.
    public static func supplementaryGroups(of pid: Int32) -> [UInt32] {
        guard let bytes = try? Files.read("/proc/\(pid)/status", limit: 65536) else { return [] }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where line.hasPrefix("Groups:") {
            return line.dropFirst(7).split(separator: " ").compactMap {
                UInt32($0.trimmingCharacters(in: .whitespaces))
            }
        }
        return []
    }
}
