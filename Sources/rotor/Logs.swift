import ArgumentParser
import Foundation
import Logging
import RotorCore
import Synchronization

/// `--log-format` and `--log-level` (cli.md, "Logs"); each falls back to its
/// environment variable, then to logfmt at `info`.
struct LogOptions: ParsableArguments {
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case logfmt, json, text

        var line: LogLine.Format { self == .json ? .json : .logfmt }
    }

    enum Level: String, ExpressibleByArgument, CaseIterable {
        case trace, debug, info, notice, warning, error

        var logger: Logger.Level { Logger.Level(rawValue: rawValue) ?? .info }
    }

    @Option(
        name: .customLong("log-format"),
        help: ArgumentHelp(
            "Log lines on stderr: logfmt (text is the same) or json (env ROTOR_LOG_FORMAT; default logfmt).",
            valueName: "format"))
    var logFormat: Format?

    @Option(
        name: .customLong("log-level"),
        help: ArgumentHelp(
            "The least severe level logged: trace, debug, info, notice, warning or error (env ROTOR_LOG_LEVEL; default info, warning with --once).",
            valueName: "level"))
    var logLevel: Level?

    /// The format and level in force; a variable holding neither a format nor a level is a usage error.
    func resolved(defaultLevel: Level) throws -> (format: LogLine.Format, level: Logger.Level) {
        let environment = ProcessInfo.processInfo.environment
        func setting<T: RawRepresentable<String> & CaseIterable>(_ name: String, _: T.Type) throws -> T? {
            guard let text = environment[name], !text.isEmpty else { return nil }
            guard let value = T(rawValue: text.lowercased()) else {
                let names = T.allCases.map(\.rawValue).joined(separator: ", ")
                throw RotorError(.invalidInput, "\(name)=\(UserText.escaped(text)) is not one of \(names)")
            }
            return value
        }
        let format = try logFormat ?? setting("ROTOR_LOG_FORMAT", Format.self) ?? .logfmt
        let level = try logLevel ?? setting("ROTOR_LOG_LEVEL", Level.self) ?? defaultLevel
        return (format.line, level.logger)
    }

    /// Sends every logger of the process to stderr in the chosen shape.
    /// The first call decides (`run` before the `--verbose` of the ledger it opens).
    func bootstrap(defaultLevel: Level) throws {
        let (format, level) = try resolved(defaultLevel: defaultLevel)
        let first = Self.bootstrapped.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        LoggingSystem.bootstrap { _ in LineLogHandler(format: format, logLevel: level) }
    }

    private static let bootstrapped = Mutex(false)
}

/// One line per event on stderr, logfmt or JSON.
struct LineLogHandler: LogHandler {
    let format: LogLine.Format
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let fields = metadata.merging(event.metadata ?? [:]) { $1 }
        let line = LogLine.render(
            format, time: Date(), level: event.level, message: "\(event.message)", metadata: fields)
        Console.writeError(line + "\n")
    }
}
