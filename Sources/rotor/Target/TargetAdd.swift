import ArgumentParser
import Foundation
import RotorCore
import VitaleraClient

extension Rotor.Target {
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Add a file target (--file), an exec hook (--exec) or a webhook (--webhook) to an app.",
            discussion: """
                Files are written atomically (temporary file in the same directory, fsync, rename), \
                mode 600 unless --mode. Formats: env (VITALERA_APPLICATION_ID=…, VITALERA_CLIENT_ID=…, \
                VITALERA_CLIENT_SECRET=…), json, raw (the secret alone), or with --template a Mustache \
                template read now and stored, with the variables app, application_id, client_id, \
                client_secret, version, rotated_at and fingerprint. Hooks run with /bin/sh -c; \
                stdin gets the json document; the environment has ROTOR_APP, ROTOR_APPLICATION_ID, \
                ROTOR_VERSION, ROTOR_ROTATION_ID, and with --env ROTOR_CLIENT_ID and ROTOR_CLIENT_SECRET. \
                A webhook gets the json document as a POST (https, or http to a loopback host; 2xx is \
                delivered), with --header lines (stored encrypted) and with --secret-file signed: \
                X-Rotor-Signature: sha256=<hex HMAC-SHA256 of the body>.
                """)

        @OptionGroup var global: GlobalOptions
        // `--format` is the file's format here, so JSON output is `--json` alone.
        @Flag(help: "Machine-readable JSON on stdout: one document, even on failure.") var json = false
        @Argument(help: "The app.") var name: String
        @Option(help: ArgumentHelp("Write the pair to this file.", valueName: "path")) var file: String?
        @Option(help: "env, json or raw (default env).") var format: String?
        @Option(
            help: ArgumentHelp(
                "A Mustache template file for the content, in place of --format (read now and stored).",
                valueName: "path"))
        var template: String?
        @Option(help: ArgumentHelp("The file's mode, octal (default 600).", valueName: "octal")) var mode: String?
        @Flag(name: .customLong("in-place"), help: "Rewrite the existing file and keep its inode (bind mounts).")
        var inPlace = false
        @Option(help: "Give the file to this user (as root).") var owner: String?
        @Option(help: "Give the file to this group (as root).") var group: String?
        @Option(help: ArgumentHelp("Run this command with the pair on stdin.", valueName: "command")) var exec: String?
        @Option(help: ArgumentHelp("Stop the hook after this long (default 30s).", valueName: "duration"))
        var timeout: String?
        @Flag(name: .customLong("env"), help: "Also pass ROTOR_CLIENT_ID and ROTOR_CLIENT_SECRET to the hook.")
        var passEnvironment = false
        @Option(help: ArgumentHelp("POST the pair's json document to this URL.", valueName: "url")) var webhook: String?
        @Option(
            help: ArgumentHelp(
                "After a delivery, run this until it exits 0: the consumer uses the new pair (env ROTOR_APP, ROTOR_VERSION, ROTOR_CLIENT_ID, ROTOR_FINGERPRINT).",
                valueName: "command"))
        var check: String?
        @Option(
            name: .customLong("check-timeout"),
            help: ArgumentHelp("How long the check may keep failing (default 5m).", valueName: "duration"))
        var checkTimeout: String?
        @Option(
            help: ArgumentHelp(
                "A request header for the webhook, 'Name: value' (repeatable; stored encrypted).", valueName: "header"))
        var header: [String] = []
        @Option(
            name: .customLong("secret-file"),
            help: ArgumentHelp(
                "Sign the webhook's body with the key in this file (read at each delivery).", valueName: "path"))
        var secretFile: String?

        func validate() throws {
            guard [file != nil, exec != nil, webhook != nil].filter({ $0 }).count == 1 else {
                throw ValidationError("give exactly one of --file, --exec and --webhook")
            }
            if webhook == nil, !header.isEmpty || secretFile != nil {
                throw ValidationError("--header and --secret-file go with --webhook")
            }
            if webhook != nil,
                format != nil || template != nil || mode != nil || inPlace || owner != nil || group != nil
                    || passEnvironment
            {
                throw ValidationError(
                    "--format, --template, --mode, --in-place, --owner, --group and --env do not go with --webhook")
            }
            if exec != nil, format != nil || template != nil || mode != nil || inPlace || owner != nil || group != nil {
                throw ValidationError("--format, --template, --mode, --in-place, --owner and --group go with --file")
            }
            if format != nil, template != nil {
                throw ValidationError("give --format or --template, not both")
            }
            if file != nil, timeout != nil || passEnvironment {
                throw ValidationError("--timeout and --env go with --exec")
            }
        }

        func run() async throws {
            try await reporting(json: json) {
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
                    // A group's template names current.* and standby.*: checked by the group.
                    let variables = TargetTemplate.variables + TargetTemplate.groupVariables
                    let text = try template.map { path throws(RotorError) in
                        try TargetTemplate.read(path, option: "--template", variables: variables)
                    }
                    kind = .file(
                        FileTarget(
                            path: path, format: parsedFormat ?? .env, mode: parsedMode ?? 0o600, inPlace: inPlace,
                            owner: owner, group: group, template: text))
                } else if let webhook {
                    if let reason = HTTPWebhookPoster.refusal(of: webhook) {
                        throw RotorError(
                            .invalidInput, "refusing --webhook \(WebhookTarget(url: webhook).shownURL): \(reason)")
                    }
                    _ = try WebhookRequest.headers(header)
                    if let secretFile { _ = try WebhookRequest.signingKey(secretFile) }
                    kind = .webhook(
                        WebhookTarget(
                            url: webhook,
                            secretFile: secretFile.map { URL(fileURLWithPath: $0).standardizedFileURL.path },
                            timeout: try timeout.map { text throws(RotorError) in
                                try DurationText.timeout(text, option: "--timeout")
                            } ?? 30))
                } else {
                    let command = exec ?? ""
                    guard !command.trimmingCharacters(in: .whitespaces).isEmpty, !command.contains("\0") else {
                        throw RotorError(.invalidInput, "--exec needs a command")
                    }
                    kind = .exec(
                        ExecTarget(
                            command: command,
                            timeout: try timeout.map { text throws(RotorError) in
                                try DurationText.timeout(text, option: "--timeout")
                            } ?? 30,
                            passEnvironment: passEnvironment))
                }
                if let check, check.trimmingCharacters(in: .whitespaces).isEmpty || check.contains("\0") {
                    throw RotorError(.invalidInput, "--check needs a command")
                }
                if checkTimeout != nil, check == nil {
                    throw RotorError(.invalidInput, "--check-timeout goes with --check")
                }
                let checkSeconds = try checkTimeout.map { text throws(RotorError) in
                    try DurationText.timeout(text, option: "--check-timeout")
                }
                let ledger = try await global.openLedger()
                let groups = GroupRegistry(ledger: ledger)
                let target: TargetRecord
                if try await groups.isGroup(name) {
                    guard header.isEmpty, check == nil else {
                        throw RotorError(.invalidInput, "a group's targets take no --header or --check")
                    }
                    target = try await groups.addTarget(group: name, kind)
                } else {
                    if case .file(let file) = kind, let text = file.template { try TargetTemplate.check(text) }
                    target = try await TargetRegistry(ledger: ledger).add(
                        app: name, kind, headers: header,
                        check: check.map { ConsumerCheck(command: $0, timeout: checkSeconds ?? 300) })
                }
                var report = CommandReport(
                    ["app": .string(name), "target": TargetText.json(target)],
                    lines: [
                        "Added target \(target.id) to \(name): \(target.summary).",
                        "The next pass of `rotor run` delivers the current pair to it; `rotor publish \(name)` does it now.",
                    ])
                if case .file(let file) = kind {
                    if file.mode & 0o007 != 0 {
                        report.notes.append("mode \(String(file.mode, radix: 8)) lets every user read \(file.path)")
                    }
                    let directory = (file.path as NSString).deletingLastPathComponent
                    var isDirectory: ObjCBool = false
                    if !FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory)
                        || !isDirectory.boolValue
                    {
                        report.notes.append(
                            "\(directory) does not exist: create it before the next delivery, or that delivery fails")
                    } else if access(directory, W_OK) != 0 {
                        report.notes.append(
                            "\(directory) is not writable by this user; the user `rotor run` runs as needs to write there"
                        )
                    }
                }
                try report.emit(json: json)
            }
        }
    }
}
