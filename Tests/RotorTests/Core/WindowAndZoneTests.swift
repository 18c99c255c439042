import Foundation
import RotorCore
import Testing

struct WindowAndZoneTests {
    @Test func windowsParseAndWrapMidnight() throws {
        let night = try TimeWindow(parsing: "22:00-02:00")
        #expect(night.contains(minuteOfDay: 23 * 60))
        #expect(night.contains(minuteOfDay: 60))
        #expect(!night.contains(minuteOfDay: 12 * 60))
        #expect(try TimeWindow(parsing: "02:00-05:30").description == "02:00-05:30")
    }

    @Test(arguments: ["", "2:00-05:00", "02:00", "02:00-02:00", "24:00-01:00", "02:60-03:00", "a-b"])
    func invalidWindows(text: String) {
        #expect(throws: RotorError.self) { try TimeWindow(parsing: text) }
    }

    @Test func timeZones() throws {
        #expect(try Validate.timezone("Europe/Amsterdam") == "Europe/Amsterdam")
        #expect(throws: RotorError.self) { try Validate.timezone("Mars/Olympus") }
    }
}
