import ArgumentParser
import Foundation
import RotorCore

/// `--json` / `--format table|json` on every command that reports a result.
struct OutputOptions: ParsableArguments {
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, json
    }

    @Flag(help: "Machine-readable JSON on stdout (same as --format json): one document, even on failure.")
    var json = false

    @Option(help: "Output format.")
    var format: Format?

    var isJSON: Bool { json || format == .json }

    /// Prints `report` for people or as one JSON document, then ends with its exit status.
    func emit(_ report: CommandReport) throws {
        try report.emit(json: isJSON)
    }

    /// True when the command line asks for JSON, read before the parser has
    /// run (a usage error is still one JSON document with `--json`).
    static func requested(in arguments: [String]) -> Bool {
        for (index, argument) in arguments.enumerated() {
            if argument == "--" { return false }
            if argument == "--json" || argument == "--format=json" { return true }
            if argument == "--format", index + 1 < arguments.count, arguments[index + 1] == "json" { return true }
        }
        return false
    }
}

/// What a command reports (cli.md, "`--json`"): lines for people on stdout,
/// failures and notes on stderr whatever the form, and the members of the
/// one JSON document for scripts, which also carries `ok` and `exit`.
struct CommandReport {
    var exit: ExitStatus = .success
    var lines: [String] = []
    var errors: [String] = []
    var notes: [String] = []
    var fields: [String: JSONValue] = [:]

    init(_ fields: [String: JSONValue] = [:], lines: [String] = []) {
        self.fields = fields
        self.lines = lines
    }

    /// Prints the report for people or as one JSON document, then ends with its exit status.
    func emit(json: Bool) throws {
        if json {
            Console.json(document)
        } else {
            for line in lines { Console.out(line) }
        }
        for line in errors { Console.error(line) }
        for line in notes { Console.note(line) }
        if exit != .success { throw ExitCode(exit.rawValue) }
    }

    var document: JSONValue {
        var members = fields
        members["ok"] = .bool(exit == .success)
        members["exit"] = .int(Int64(exit.rawValue))
        return .object(JSONObject(members))
    }

    /// The one document of a failure.
    static func failure(code: String, message: String, exit: ExitStatus) -> JSONValue {
        ["ok": false, "exit": .int(Int64(exit.rawValue)), "code": .string(code), "error": .string(message)]
    }
}

/// Runs a command body and turns a ``RotorError`` into one line on stderr
/// and the contract's exit status; with `json`, also into the failure's
/// one JSON document on stdout.
func reporting(json: Bool = false, _ body: () async throws -> Void) async throws {
    let failure: (code: String, message: String, exit: ExitStatus)
    do {
        try await body()
        return
    } catch let error as RotorError {
        failure = (error.code.rawValue, error.message, error.exitStatus)
    } catch let error as FileError {
        failure = ("io", error.description, .failed)
    }
    if json { Console.json(CommandReport.failure(code: failure.code, message: failure.message, exit: failure.exit)) }
    Console.error(failure.message)
    throw ExitCode(failure.exit.rawValue)
}
