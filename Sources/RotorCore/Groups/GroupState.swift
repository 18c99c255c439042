import Foundation

/// A group as it stands: which member is current (the one whose pair was
/// stored last) and which is standby, the group's version, and why it is
/// held, if it is. Derived from the members' stored pairs alone, so a crash
/// between a member's rotation and the group's delivery leaves nothing to
/// repair: the next pass sees the same state.
public struct GroupState: Sendable {
    public struct Member: Sendable {
        public var app: AppRecord
        public var credential: CredentialRecord
    }

    public var group: GroupRecord
    /// The member consumers should use now.
    public var current: Member
    /// The member rotated next; its pair still works until then.
    public var standby: Member
    /// The sum of the members' versions: one more at each rotation of either.
    public var version: Int
    /// Why the group neither rotates nor delivers now (a member needs action,
    /// is disabled or has a rotation that is not finished); nil when it runs.
    public var held: String?

    public static func read(_ group: GroupRecord, in reader: any StoreReader) throws -> GroupState {
        var members: [Member] = []
        var held: String?
        for id in group.members {
            guard let app = try reader.app(id: id),
                let credential = try reader.credential(appID: id, version: app.currentVersion)
            else {
                throw RotorError(.databaseInvalid, "group \(group.name) has a member that is gone; remove the group")
            }
            members.append(Member(app: app, credential: credential))
            if held == nil {
                if let attention = app.attention {
                    held = "member \(app.name) needs action: \(attention.reason)"
                } else if let open = try reader.unresolvedRotation(appID: id) {
                    held = "member \(app.name) has rotation \(open.id) \(open.state.rawValue)"
                } else if !app.enabled {
                    held = "member \(app.name) is disabled"
                }
            }
        }
        guard members.count == 2 else {
            throw RotorError(
                .databaseInvalid, "group \(group.name) does not have two members; remove it and add it again")
        }
        let newestFirst = members.sorted {
            ($0.credential.createdAt, $0.credential.version) > ($1.credential.createdAt, $1.credential.version)
        }
        return GroupState(
            group: group, current: newestFirst[0], standby: newestFirst[1],
            version: members[0].credential.version + members[1].credential.version, held: held)
    }

    /// The group's next occurrence: its standby member, on the group's
    /// schedule counted from when the current pair was stored. nil when the
    /// group is held or has no schedule.
    public func nextOccurrence(active: [OccurrenceRecord], now: Date) -> OccurrenceRecord? {
        guard held == nil else { return nil }
        return Planner.next(app: scheduled, secretCreatedAt: current.credential.createdAt, active: active, now: now)
    }

    /// The standby member with the group's schedule, as the planner sees it.
    public var scheduled: AppRecord {
        var app = standby.app
        app.schedule = group.schedule
        app.jitter = group.jitter
        app.window = group.window
        app.timezone = group.timezone
        return app
    }

    /// Both pairs in plain text, for the group's targets.
    public func document(keyring: Keyring) throws -> GroupDocument {
        func pair(_ member: Member) throws -> DeliveryDocument {
            guard let sealed = member.credential.sealedSecret else {
                throw RotorError(
                    .notFound, "the secret of \(member.app.name) version \(member.credential.version) was wiped")
            }
            return DeliveryDocument(
                app: member.app.name, applicationID: member.app.applicationID, clientID: member.credential.clientID,
                clientSecret: try keyring.open(
                    sealed, for: .clientSecret(appID: member.app.id, version: member.credential.version)),
                version: member.credential.version, rotatedAt: member.credential.createdAt,
                fingerprint: member.credential.fingerprint)
        }
        return GroupDocument(
            group: group.name, version: version, current: try pair(current), standby: try pair(standby))
    }
}

/// What a group's target receives: both pairs (consumers.md).
public struct GroupDocument: Sendable {
    public var group: String
    public var version: Int
    public var current: DeliveryDocument
    public var standby: DeliveryDocument

    /// `{"current":{application_id,client_id,client_secret,version,rotated_at},"standby":{…}}`
    /// and a newline; also the stdin of exec hooks.
    public var json: [UInt8] {
        func object(_ pair: DeliveryDocument) -> String {
            "{"
                + pair.jsonFields.map { "\(JSONValue.string($0.0).canonical):\($0.1.canonical)" }
                .joined(separator: ",") + "}"
        }
        return Array("{\"current\":\(object(current)),\"standby\":\(object(standby))}\n".utf8)
    }

    /// `VITALERA_*` for the current pair, `VITALERA_STANDBY_*` for the standby one.
    public var env: [UInt8] {
        Array(
            """
            VITALERA_APPLICATION_ID=\(current.applicationID)
            VITALERA_CLIENT_ID=\(current.clientID)
            VITALERA_CLIENT_SECRET=\(current.clientSecret.reveal())
            VITALERA_STANDBY_APPLICATION_ID=\(standby.applicationID)
            VITALERA_STANDBY_CLIENT_ID=\(standby.clientID)
            VITALERA_STANDBY_CLIENT_SECRET=\(standby.clientSecret.reveal())

            """.utf8)
    }

    /// What `file` holds: its template rendered (`current.*`, `standby.*`,
    /// `group`), or its format; `raw` is the current secret alone.
    public func bytes(for file: FileTarget) -> [UInt8] {
        if let template = file.template {
            return TargetTemplate.render(
                template,
                values: ["group": group, "current": current.templateValues, "standby": standby.templateValues])
        }
        switch file.format {
        case .env: return env
        case .json: return json
        case .raw: return current.raw
        }
    }

    var secrets: [String] { [current.clientSecret.reveal(), standby.clientSecret.reveal()] }
}
