import ArgumentParser
import Foundation
import RotorCore
import RotorSQL

extension Rotor {
    struct StoreGroup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "store",
            abstract: "Move a Rotor database between SQLite and PostgreSQL.",
            subcommands: [Copy.self])
    }
}

extension Rotor.StoreGroup {
    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "copy",
            abstract: "Copy everything from one database to an empty other (SQLite path or postgres:// URL).",
            discussion: """
                Apps, versions, history, deliveries, targets, alerts, groups and the audit chain, with \
                their IDs, in one consistent snapshot of SOURCE and one transaction into DEST. Secrets \
                stay sealed with the same master key (--key-file, --key-command or the systemd \
                credential; SOURCE's <db>.key for a SQLite source). Afterwards DEST is checked: the \
                audit chain verifies and every secret reads back. Stop `rotor run` on SOURCE first: \
                what it does after the snapshot is not in DEST.
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The database to copy: a SQLite path or a postgres:// URL.") var source: String
        @Argument(help: "The empty database to copy into: a SQLite path (created) or a postgres:// URL.")
        var destination: String

        func run() async throws {
            try await reporting(json: output.isJSON) {
                var from = global
                from.db = source
                let target = try DatabaseLocation(destination)
                if case .sqlite(let path) = target, Files.exists(path) {
                    throw RotorError(.alreadyExists, "\(path) exists; store copy writes only into a new SQLite file")
                }
                let ledger = try await from.openLedger()
                let report = try await StoreCopyRun.copy(
                    ledger, into: try await global.open(target, create: true), key: try from.keySource,
                    source: try from.databaseName, destination: target.description)
                try output.emit(report)
            }
        }
    }
}

/// A copy into an empty store and its check, for `store copy` and `backup` from PostgreSQL.
enum StoreCopyRun {
    static func copy(
        _ ledger: Ledger, into destination: any Store, key: MasterKeySource, source: String, destination name: String
    ) async throws -> CommandReport {
        let counts = try await SQLStoreCopy.copy(from: ledger.store, to: destination)
        // The copy is the same database: it opens with the same key, its chain verifies, every secret reads back.
        var notices: [String] = []
        let copied = try await Ledger.open(
            store: destination, key: key, clock: SystemClock(), actor: ledger.actor, notices: &notices)
        let verification = try await AuditLog(ledger: copied).verify()
        guard verification.isIntact else {
            throw RotorError(
                .databaseInvalid,
                "the copy in \(name) does not verify (\(verification.firstBreak.map { "\($0)" } ?? "")); do not use it")
        }
        let sealed = try await destination.read { try $0.sealedValues() }
        for value in sealed { _ = try copied.keyring.open(value.box, for: value.slot) }
        let apps = counts["apps"] ?? 0
        let events = counts["audit_events"] ?? 0
        return CommandReport(
            [
                "source": .string(source), "destination": .string(name),
                "tables": .object(JSONObject(counts.mapValues { .int(Int64($0)) })),
                "audit_events_verified": .int(Int64(verification.checked)), "secrets_read": .int(Int64(sealed.count)),
                "key_id": .string(copied.keyring.master.id),
            ],
            lines: [
                "Copied \(source) to \(name): \(apps) app\(apps == 1 ? "" : "s"), \(counts["credentials"] ?? 0) stored pairs, \(events) audit events.",
                "Checked: the audit chain verifies (\(verification.checked) events) and all \(sealed.count) sealed secrets read back with key \(copied.keyring.master.id).",
            ])
    }
}
