import Foundation
import RotorCore

#if canImport(Glibc)
    import Glibc
#endif

/// Output for people and scripts.
enum Console {
    /// Writes to stdout. When the reader has gone (`rotor app list | head`),
    /// Rotor ends the way any Unix tool does, by SIGPIPE and without a word:
    /// every command writes its output only after its work is committed.
    static func write(_ bytes: [UInt8]) {
        guard Files.writeAll(STDOUT_FILENO, bytes) == EPIPE else { return }
        signal(SIGPIPE, SIG_DFL)
        raise(SIGPIPE)
        _exit(128 + SIGPIPE)
    }

    /// Writes to stderr; a failure is ignored, there is nobody left to tell.
    static func writeError(_ text: String) {
        _ = Files.writeAll(STDERR_FILENO, Array(text.utf8))
    }

    static func out(_ line: String) {
        write(Array((line + "\n").utf8))
    }

    /// The size at which streamed output is handed to stdout.
    static let chunk = 1 << 16

    /// A JSON array written as its elements are made: the same text as
    /// `json(.array(…))` without holding every element at once.
    static func jsonArray<Elements: Sequence>(_ elements: Elements, _ element: (Elements.Element) -> JSONValue) {
        var bytes: [UInt8] = [UInt8(ascii: "[")]
        bytes.reserveCapacity(chunk + 4096)
        for (index, item) in elements.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            element(item).write(to: &bytes)
            if bytes.count >= chunk {
                write(bytes)
                bytes.removeAll(keepingCapacity: true)
            }
        }
        bytes.append(contentsOf: "]\n".utf8)
        write(bytes)
    }

    static func json(_ value: JSONValue) {
        var bytes: [UInt8] = []
        value.write(to: &bytes)
        bytes.append(UInt8(ascii: "\n"))
        write(bytes)
    }

    /// One line on stderr: `rotor: <message>`, its control characters
    /// escaped whatever the message holds.
    static func error(_ message: String) {
        writeError("rotor: \(UserText.escaped(message))\n")
    }

    static func warning(_ message: String) {
        writeError("rotor: warning: \(UserText.escaped(message))\n")
    }

    static func note(_ message: String) {
        writeError("rotor: note: \(UserText.escaped(message))\n")
    }

    /// Colour for people (cli.md, "Terminal manners"): only when stdout is a
    /// terminal and `NO_COLOR` is unset or empty (no-color.org).
    static let colour: Bool = {
        isatty(STDOUT_FILENO) == 1 && (ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
    }()

    /// Columns whose words are painted: health, states and outcomes.
    static let paintedColumns: Set<String> = ["HEALTH", "STATE", "OUTCOME"]

    /// The SGR colour of a health, state or outcome word; nil for any other text.
    static func paint(_ word: String) -> String? {
        switch word {
        case "ok", "due", "rotating", "completed", "delivered", "succeeded", "verified", "success", "confirmed":
            "32"  // green
        case "retrying", "pending-delivery", "pending", "requesting", "rotated", "recovering":
            "33"  // yellow
        case "failed", "needs-action", "lost", "aborted", "failure", "FAIL":
            "1;31"  // bold red
        case "disabled", "superseded":
            "2"  // dim
        default: nil
        }
    }

    /// `word` in its colour on a terminal, as it is otherwise.
    static func painted(_ word: String) -> String {
        guard colour, let code = paint(word) else { return word }
        return "\u{1B}[\(code)m\(word)\u{1B}[0m"
    }

    /// Columns padded to their widest cell; the last column is not padded.
    /// On a terminal, health, state and outcome words are coloured.
    static func table(_ header: [String], _ rows: [[String]], indent: String = "") {
        let all = [header] + rows
        // Each cell's width once: characters, counted from the bytes when the cell is ASCII (nearly always).
        let counts = all.map { row in
            row.map { cell in cell.utf8.allSatisfy { $0 < 0x80 } ? cell.utf8.count : cell.count }
        }
        var widths = [Int](repeating: 0, count: header.count)
        for row in counts {
            for (index, count) in row.enumerated() { widths[index] = max(widths[index], count) }
        }
        let painted = colour ? Set(header.indices.filter { paintedColumns.contains(header[$0]) }) : []
        // One write for the whole table: a listing of 100,000 apps is one system call, not 100,000.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(all.count * (widths.reduce(indent.utf8.count, +) + 2 * widths.count))
        for (number, row) in all.enumerated() {
            bytes.append(contentsOf: indent.utf8)
            for (index, cell) in row.enumerated() {
                bytes.append(contentsOf: (number > 0 && painted.contains(index) ? Self.painted(cell) : cell).utf8)
                if index < row.count - 1 {
                    bytes.append(
                        contentsOf: repeatElement(UInt8(ascii: " "), count: widths[index] - counts[number][index] + 2))
                }
            }
            bytes.append(UInt8(ascii: "\n"))
        }
        write(bytes)
    }

    /// `key  value` lines.
    static func fields(_ pairs: [(String, String)]) {
        let width = pairs.map(\.0.count).max() ?? 0
        for (key, value) in pairs {
            out(key.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value)
        }
    }

    /// Reads all of stdin (at most 64 KiB). At a terminal it prompts on
    /// stderr and turns echo off, like `read -s`.
    static func readSecretFromStdin(prompt: String) throws -> [UInt8] {
        let terminal = isatty(0) == 1
        var saved = termios()
        if terminal {
            writeError(prompt)
            tcgetattr(0, &saved)
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(0, TCSAFLUSH, &quiet)
        }
        defer {
            if terminal {
                tcsetattr(0, TCSAFLUSH, &saved)
                writeError("\n")
            }
        }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(0, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw RotorError(
                    .invalidInput, "cannot read the secret from stdin: \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            bytes.append(contentsOf: buffer[0..<count])
            // At a terminal one line is the whole answer.
            if terminal, bytes.contains(0x0a) { break }
            if bytes.count > 65536 {
                throw RotorError(.invalidInput, "the secret on stdin is longer than 64 KiB")
            }
        }
        return bytes
    }
}
