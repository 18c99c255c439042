import ArgumentParser
import Foundation
import RotorCore

extension Rotor {
    struct Target: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Manage where an app's new pair is delivered: files and exec hooks.",
            subcommands: [Add.self, List.self, Remove.self])

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Add a file target (--file) or an exec hook (--exec) to an app.",
                discussion: """
                    Files are written atomically (temporary file in the same directory, fsync, rename), \
                    mode 600 unless --mode. Formats: env (VITALERA_APPLICATION_ID=…, VITALERA_CLIENT_ID=…, \
                    VITALERA_CLIENT_SECRET=…), json, raw (the secret alone). Hooks run with /bin/sh -c; \
                    stdin gets the json document; the environment has ROTOR_APP, ROTOR_APPLICATION_ID, \
                    ROTOR_VERSION, ROTOR_ROTATION_ID, and with --env ROTOR_CLIENT_ID and ROTOR_CLIENT_SECRET.
                    """)

            @OptionGroup var global: GlobalOptions
            @Argument(help: "The app.") var name: String
            @Option(help: ArgumentHelp("Write the pair to this file.", valueName: "path")) var file: String?
            @Option(help: "env, json or raw (default env).") var format: String?
            @Option(help: ArgumentHelp("The file's mode, octal (default 600).", valueName: "octal")) var mode: String?
            @Flag(name: .customLong("in-place"), help: "Rewrite the existing file and keep its inode (bind mounts).")
            var inPlace = false
            @Option(help: "Give the file to this user (as root).") var owner: String?
            @Option(help: "Give the file to this group (as root).") var group: String?
            @Option(help: ArgumentHelp("Run this command with the pair on stdin.", valueName: "command")) var exec:
                String?
            @Option(help: ArgumentHelp("Stop the hook after this long (default 30s).", valueName: "duration"))
            var timeout: String?
            @Flag(name: .customLong("env"), help: "Also pass ROTOR_CLIENT_ID and ROTOR_CLIENT_SECRET to the hook.")
            var passEnvironment = false

            func validate() throws {
                guard (file != nil) != (exec != nil) else {
                    throw ValidationError("give exactly one of --file and --exec")
                }
                if exec != nil, format != nil || mode != nil || inPlace || owner != nil || group != nil {
                    throw ValidationError("--format, --mode, --in-place, --owner and --group go with --file")
                }
                if file != nil, timeout != nil || passEnvironment {
                    throw ValidationError("--timeout and --env go with --exec")
                }
            }

            func run() async throws {
                try await reporting {
                    let kind: TargetKind
                    if let file {
                        guard !file.isEmpty, !file.contains("\0") else {
                            throw RotorError(.invalidInput, "--file needs a path")
                        }
                        let path = URL(fileURLWithPath: file).standardizedFileURL.path
                        let parsedFormat = try format.map { text throws(RotorError) in
                            guard let value = FileTarget.Format(rawValue: text) else {
                                throw RotorError(
                                    .invalidInput, "--format takes env, json or raw, not \(UserText.quoted(text))")
                            }
                            return value
                        }
                        let parsedMode = try mode.map { text throws(RotorError) in
                            guard let value = Int(text, radix: 8), (0...0o777).contains(value), text.count <= 4 else {
                                throw RotorError(
                                    .invalidInput,
                                    "--mode takes octal permission bits like 600 or 640, not \(UserText.quoted(text))")
                            }
                            return value
                        }
                        kind = .file(
                            FileTarget(
                                path: path, format: parsedFormat ?? .env, mode: parsedMode ?? 0o600, inPlace: inPlace,
                                owner: owner, group: group))
                    } else {
                        let command = exec ?? ""
                        guard !command.trimmingCharacters(in: .whitespaces).isEmpty, !command.contains("\0") else {
                            throw RotorError(.invalidInput, "--exec needs a command")
                        }
                        let seconds = try timeout.map { text throws(RotorError) in
                            try DurationText.parse(text, option: "--timeout")
                        }
                        if let seconds, seconds <= 0 {
                            throw RotorError(.invalidInput, "--timeout must be longer than 0s")
                        }
                        kind = .exec(
                            ExecTarget(
                                command: command, timeout: TimeInterval(seconds ?? 30), passEnvironment: passEnvironment
                            ))
                    }
                    let target = try await TargetRegistry(ledger: try global.openLedger()).add(app: name, kind)
                    Console.out("Added target \(target.id) to \(name): \(target.summary).")
                    if case .file(let file) = kind, file.mode & 0o007 != 0 {
                        Console.note("mode \(String(file.mode, radix: 8)) lets every user read \(file.path)")
                    }
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List an app's targets and their deliveries.")

            @OptionGroup var global: GlobalOptions
            @OptionGroup var output: OutputOptions
            @Argument(help: "The app.") var name: String

            func run() async throws {
                try await reporting {
                    let targets = try await TargetRegistry(ledger: try global.openLedger()).list(app: name)
                    if output.isJSON {
                        Console.json(
                            .array(
                                targets.map { item in
                                    [
                                        "id": .int(item.target.id), "target": .string(item.target.summary),
                                        "enabled": .bool(item.target.enabled),
                                        "version": .optional(item.latest?.version),
                                        "state": .optional(item.latest?.state.rawValue),
                                        "attempts": .optional(item.latest?.attempts),
                                        "error": .optional(item.latest?.lastError),
                                        "last_error": .optional(item.latest?.lastError),
                                        "last_output": .optional(item.latest?.output),
                                        "last_attempt": .optional(item.latest?.lastAttemptAt.map(RFC3339.format)),
                                        "next_attempt": .optional(item.latest?.nextAttemptAt.map(RFC3339.format)),
                                    ]
                                }))
                        return
                    }
                    Console.table(
                        ["ID", "TARGET", "VERSION", "STATE", "ERROR", "OUTPUT"],
                        targets.map { item in
                            [
                                String(item.target.id), item.target.summary,
                                item.latest.map { String($0.version) } ?? "-",
                                item.latest?.state.rawValue ?? "never delivered", item.latest?.lastError ?? "",
                                TargetText.lastLine(item.latest?.output),
                            ]
                        })
                }
            }
        }

        struct Remove: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Remove a target from an app.")

            @OptionGroup var global: GlobalOptions
            @Argument(help: "The app.") var name: String
            @Argument(help: "The target id (see `rotor target list`).") var targetID: Int64

            func run() async throws {
                try await reporting {
                    try await TargetRegistry(ledger: try global.openLedger()).remove(app: name, targetID: targetID)
                    Console.out("Removed target \(targetID) from \(name).")
                }
            }
        }
    }

    struct Publish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deliver an app's current pair to every target again, now.",
            discussion: "Exit 0 when every target has it, 3 when a delivery failed (it is retried by `rotor run`).")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The app.") var name: String

        func run() async throws {
            try await reporting {
                let ledger = try await global.openLedger()
                let outcomes = try await TargetRegistry(ledger: ledger).publish(
                    app: name, using: DeliveryService(ledger: ledger))
                if outcomes.isEmpty {
                    Console.out("\(name) has no targets; add one with `rotor target add \(name) --file PATH`.")
                    return
                }
                for outcome in outcomes {
                    let line =
                        "target \(outcome.target.id) (\(outcome.target.summary)): \(outcome.state.rawValue), \(outcome.detail)"
                    if outcome.state == .succeeded { Console.out(line) } else { Console.error(line) }
                }
                if outcomes.contains(where: { $0.state == .failed || $0.state == .pending }) {
                    throw ExitCode(ExitStatus.pending.rawValue)
                }
            }
        }
    }

    struct Alert: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Commands run when a rotation ends failed or lost, or a delivery fails past its retry budget.",
            discussion: """
                Stdin: a JSON document with event, app, rotation_id, state, error, time (never a \
                secret). Same process rules as exec targets.
                """,
            subcommands: [Add.self, List.self, Remove.self])

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Add an alert hook.")

            @OptionGroup var global: GlobalOptions
            @Option(help: ArgumentHelp("The command, run with /bin/sh -c.", valueName: "command")) var exec: String
            @Option(help: ArgumentHelp("Stop it after this long (default 30s).", valueName: "duration")) var timeout =
                "30s"

            func run() async throws {
                try await reporting {
                    guard !exec.trimmingCharacters(in: .whitespaces).isEmpty else {
                        throw RotorError(.invalidInput, "--exec needs a command")
                    }
                    let seconds = try DurationText.parse(timeout, option: "--timeout")
                    guard seconds > 0 else { throw RotorError(.invalidInput, "--timeout must be longer than 0s") }
                    let alert = try await TargetRegistry(ledger: try global.openLedger()).addAlert(
                        command: exec, timeout: TimeInterval(seconds))
                    Console.out("Added alert \(alert.id).")
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List alert hooks.")

            @OptionGroup var global: GlobalOptions
            @OptionGroup var output: OutputOptions

            func run() async throws {
                try await reporting {
                    let alerts = try await TargetRegistry(ledger: try global.openLedger()).alerts()
                    if output.isJSON {
                        Console.json(
                            .array(
                                alerts.map {
                                    [
                                        "id": .int($0.id), "command": .string($0.command),
                                        "timeout_seconds": .int(Int64($0.timeout)),
                                    ]
                                }))
                        return
                    }
                    Console.table(
                        ["ID", "COMMAND", "TIMEOUT"],
                        alerts.map { [String($0.id), $0.command, DurationText.format(Int64($0.timeout))] })
                }
            }
        }

        struct Remove: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Remove an alert hook.")

            @OptionGroup var global: GlobalOptions
            @Argument(help: "The alert id.") var id: Int64

            func run() async throws {
                try await reporting {
                    try await TargetRegistry(ledger: try global.openLedger()).removeAlert(id: id)
                    Console.out("Removed alert \(id).")
                }
            }
        }
    }
}

enum TargetText {
    /// The last non-empty line of a hook's kept output (masked when it was
    /// kept), cut for a table cell; `rotor target list --json` has it whole.
    static func lastLine(_ output: String?) -> String {
        guard let line = output?.split(whereSeparator: \.isNewline).last(where: { !$0.allSatisfy(\.isWhitespace) })
        else { return "" }
        return line.count > 80 ? String(line.prefix(79)) + "…" : String(line)
    }
}
