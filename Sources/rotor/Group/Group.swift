import ArgumentParser
import Foundation
import RotorCore

extension Rotor {
    struct Group: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "group",
            abstract: "Manage alternating groups: two apps rotated in turn, so consumers never hold a dead pair.",
            discussion: """
                Register two vitalera applications with the same permissions as apps, then group \
                them. Each time the group is due, Rotor rotates the standby member (the older pair), \
                verifies it, and it becomes current; the other member's pair, still valid, becomes \
                standby. The group's targets (`rotor target add GROUP …`) receive both pairs. A pair \
                delivered as current stays valid for at least one full period after that delivery.
                """,
            subcommands: [Add.self, List.self, Show.self, Remove.self])
    }
}

/// Text and JSON of a group, shared by the group commands.
enum GroupText {
    static func json(_ state: GroupState, next: Date?) -> JSONValue {
        func member(_ member: GroupState.Member) -> JSONValue {
            [
                "app": .string(member.app.name), "application_id": .string(member.app.applicationID),
                "client_id": .string(member.credential.clientID), "version": .int(Int64(member.credential.version)),
                "rotated_at": .string(RFC3339.format(member.credential.createdAt)),
            ]
        }
        return [
            "group": .string(state.group.name), "schedule": .string(state.group.schedule.description),
            "current": member(state.current), "standby": member(state.standby), "version": .int(Int64(state.version)),
            "held": .optional(state.held), "next_due": .optional(next.map(RFC3339.format)),
            "reread_by": .optional(next.map(RFC3339.format)),
        ]
    }
}

extension Rotor.Group {
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add", abstract: "Group two apps, rotated in turn on the group's schedule.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The group's name (not an app's).") var name: String
        @Option(help: ArgumentHelp("The two member apps, A,B.", valueName: "apps")) var apps: String
        @OptionGroup var schedule: ScheduleOptions

        func run() async throws {
            try await reporting(json: output.isJSON) {
                guard let parsed = try schedule.schedule() else {
                    throw RotorError(.invalidInput, "a group rotates on a schedule: give --every or --cron")
                }
                let members = apps.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
                let state = try await GroupRegistry(ledger: try global.openLedger()).add(
                    GroupRegistry.Spec(
                        name: try Validate.name(name, kind: "group"), apps: members, schedule: parsed,
                        jitter: try schedule.jitterSeconds() ?? 0, window: try schedule.timeWindow(),
                        timezone: try schedule.timeZone() ?? "UTC"))
                try output.emit(
                    CommandReport(
                        ["group": GroupText.json(state, next: nil)],
                        lines: [
                            "Added group \(name) (\(parsed)): \(state.current.app.name) is current, \(state.standby.app.name) standby and rotated first.",
                            "Add its targets with `rotor target add \(name) …`; the members' own schedules are ignored while they are in it.",
                        ]))
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List groups.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await reporting(json: output.isJSON) {
                let groups = try await GroupRegistry(ledger: try global.openLedger()).list()
                if output.isJSON {
                    Console.json(.array(groups.map { GroupText.json($0, next: nil) }))
                    return
                }
                Console.table(
                    ["GROUP", "SCHEDULE", "CURRENT", "STANDBY", "VERSION", "HELD"],
                    groups.map {
                        [
                            $0.group.name, $0.group.schedule.description, $0.current.app.name, $0.standby.app.name,
                            "\($0.version)", $0.held ?? "-",
                        ]
                    })
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Show a group: which member is current, its targets, and when consumers must have re-read.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The group.") var name: String

        func run() async throws {
            try await reporting(json: output.isJSON) {
                let ledger = try await global.openLedger()
                let detail = try await GroupRegistry(ledger: ledger).show(name)
                let state = detail.state
                if output.isJSON {
                    guard case .object(var members) = GroupText.json(state, next: detail.next) else { return }
                    members["targets"] = .array(
                        detail.targets.map { target, delivery in
                            [
                                "id": .int(target.id), "target": .string(target.summary),
                                "state": .string(delivery?.state.rawValue ?? "pending"),
                                "error": .optional(delivery?.lastError),
                            ]
                        })
                    Console.json(.object(members))
                    return
                }
                let now = ledger.clock.now
                Console.fields([
                    ("group", state.group.name),
                    ("schedule", state.group.schedule.description),
                    (
                        "current",
                        "\(state.current.app.name) (version \(state.current.credential.version), since \(RFC3339.format(state.current.credential.createdAt)))"
                    ),
                    (
                        "standby",
                        "\(state.standby.app.name) (version \(state.standby.credential.version); rotated next)"
                    ),
                    ("version", "\(state.version)"),
                    ("held", state.held ?? "no"),
                    (
                        "re-read by",
                        detail.next.map {
                            "\(RFC3339.format($0)) (\(DurationText.age(Int64($0.timeIntervalSince(now))))): the standby pair stops working then"
                        } ?? "no rotation planned"
                    ),
                ])
                Console.out("")
                Console.table(
                    ["ID", "TARGET", "STATE", "ERROR"],
                    detail.targets.map { target, delivery in
                        [
                            "\(target.id)", target.summary, delivery?.state.rawValue ?? "pending",
                            delivery?.lastError ?? "",
                        ]
                    })
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove",
            abstract: "Remove a group and its targets; its apps stay, on their own schedules again.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The group.") var name: String

        func run() async throws {
            try await reporting(json: output.isJSON) {
                try await GroupRegistry(ledger: try global.openLedger()).remove(name)
                try output.emit(
                    CommandReport(
                        ["group": .string(name)],
                        lines: ["Removed group \(name); its apps rotate on their own schedules again."]))
            }
        }
    }
}
