import Foundation
import RotorCore
import Testing

struct DurationTests {
    @Test(arguments: [("90s", 90), ("12h", 43200), ("30d", 2_592_000), ("1m", 60), ("0s", 0)] as [(String, Int64)])
    func validDurations(text: String, seconds: Int64) throws {
        #expect(try DurationText.parse(text, option: "--every") == seconds)
    }

    @Test(arguments: ["", "30", "d", "1.5h", "-1d", "+1d", "1w", "10 d", "99999999999999999d", "1D"])
    func invalidDurations(text: String) {
        #expect(throws: RotorError.self) { try DurationText.parse(text, option: "--every") }
    }

    @Test func formatIsTheShortestExactForm() {
        #expect(DurationText.format(2_592_000) == "30d")
        #expect(DurationText.format(5400) == "90m")
        #expect(DurationText.format(45) == "45s")
    }
}
