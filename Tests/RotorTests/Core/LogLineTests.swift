import Foundation
import Logging
import RotorCore
import Testing

/// Log lines in the shapes of cli.md, "Logs": logfmt and one JSON object per line.
struct LogLineTests {
    let time = Date(timeIntervalSince1970: 1_764_478_899.120)

    @Test func logfmtPutsTimeLevelAndMessageFirstThenSortedFields() {
        let line = LogLine.render(
            .logfmt, time: time, level: .info, message: "rotated billing",
            metadata: ["rotation": .stringConvertible(17), "app": "billing", "version": .stringConvertible(2)])
        #expect(
            line == #"time=2025-11-30T05:01:39.120Z level=info msg="rotated billing" app=billing rotation=17 version=2"#
        )
    }

    @Test(arguments: [
        ("two words", #""two words""#), ("", #""""#), ("a=b", #""a=b""#), (#"say "hi""#, #""say \"hi\"""#),
        ("back\\slash", #""back\\slash""#), ("line\nbreak", #""line\nbreak""#), ("\u{1b}[31m", #""\u{1b}[31m""#),
        ("plain", "plain"), ("é-ok", "é-ok"),
    ])
    func logfmtValuesAreQuotedWhenTheyMustBeAndOneEventIsOneLine(value: String, expected: String) {
        let line = LogLine.render(.logfmt, time: time, level: .warning, message: "m", metadata: ["k": "\(value)"])
        #expect(line.hasSuffix(" k=\(expected)"), "\(line)")
        #expect(!line.contains("\n"))
    }

    @Test func logfmtKeysKeepOnlySafeCharacters() {
        let line = LogLine.render(.logfmt, time: time, level: .info, message: "m", metadata: ["a key=x": "1"])
        #expect(line.hasSuffix(" a_key_x=1"), "\(line)")
    }

    @Test func jsonHasTimeLevelMsgFirstAndNumbersAsNumbers() throws {
        let line = LogLine.render(
            .json, time: time, level: .error, message: "delivery failed\n",
            metadata: [
                "app": "billing", "attempt": .stringConvertible(3), "retry": .stringConvertible(true),
                "msg": "a field may not replace the message",
            ])
        #expect(line.hasPrefix(#"{"time":"2025-11-30T05:01:39.120Z","level":"error","msg":"delivery failed\n","#))
        #expect(!line.contains("\n"))
        let object = try #require(JSONValue.parse(line))
        #expect(object["attempt"] == .int(3))
        #expect(object["retry"] == .bool(true))
        #expect(object["app"] == "billing")
        #expect(object["msg"] == "delivery failed\n")
    }
}
