import Foundation
import Logging

/// One log line in the shapes operators' tools read (cli.md, "Logs"):
/// logfmt, `time=… level=… msg="…" key=value…`, or one JSON object with
/// `time`, `level` and `msg` first and numbers as numbers.
public enum LogLine {
    public enum Format: String, Sendable, CaseIterable {
        case logfmt, json
    }

    public static func render(
        _ format: Format, time: Date, level: Logger.Level, message: String, metadata: Logger.Metadata
    ) -> String {
        let fields = metadata.sorted { $0.key < $1.key }
        switch format {
        case .logfmt:
            var line = "time=\(RFC3339.format(time)) level=\(level.rawValue) msg=\(logfmtValue(message, quoted: true))"
            for (key, value) in fields {
                line += " \(logfmtKey(key))=\(logfmtValue(text(value), quoted: false))"
            }
            return line
        case .json:
            var bytes: [UInt8] = []
            func member(_ key: String, _ value: JSONValue) {
                bytes.append(bytes.isEmpty ? UInt8(ascii: "{") : UInt8(ascii: ","))
                JSONValue.string(key).write(to: &bytes)
                bytes.append(UInt8(ascii: ":"))
                value.write(to: &bytes)
            }
            member("time", .string(RFC3339.format(time)))
            member("level", .string(level.rawValue))
            member("msg", .string(message))
            for (key, value) in fields where !["time", "level", "msg"].contains(key) {
                member(key, json(value))
            }
            bytes.append(UInt8(ascii: "}"))
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// A number or a boolean given as one stays one; everything else is its text.
    static func json(_ value: Logger.MetadataValue) -> JSONValue {
        switch value {
        case .string(let text): return .string(text)
        case .stringConvertible(let item):
            if let flag = item as? Bool { return .bool(flag) }
            if let number = item as? any BinaryInteger, let exact = Int64(exactly: number) { return .int(exact) }
            return .string(item.description)
        case .array(let items): return .array(items.map(json))
        case .dictionary(let items): return .object(JSONObject(items.mapValues(json)))
        }
    }

    static func text(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let text): return text
        case .stringConvertible(let item): return item.description
        case .array, .dictionary: return json(value).canonical
        }
    }

    /// A key is letters, digits, `_`, `.` and `-`; anything else becomes `_`.
    static func logfmtKey(_ key: String) -> String {
        let safe = key.unicodeScalars.map { scalar -> Character in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "_", ".", "-": return Character(scalar)
            default: return "_"
            }
        }
        return safe.isEmpty ? "_" : String(safe)
    }

    /// Bare when it can be (no space, `=`, quote, backslash or control
    /// character, not empty), else quoted with `\"`, `\\`, `\n`, `\t` and
    /// `\u{…}` escapes, so that one event is always one line.
    static func logfmtValue(_ value: String, quoted always: Bool) -> String {
        let needsQuotes =
            always || value.isEmpty
            || value.unicodeScalars.contains {
                $0 == " " || $0 == "=" || $0 == "\"" || $0 == "\\" || $0.value < 0x20 || $0.value == 0x7f
            }
        guard needsQuotes else { return value }
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7f:
                out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
