import Foundation

/// HTTP dates (RFC 9110 §5.6.7), read from ASCII bytes without a date
/// formatter: a formatter given arbitrary text from the network can trap.
public enum HTTPDate {
    /// `Sun, 06 Nov 1994 08:49:37 GMT`, and the two obsolete forms a
    /// recipient must still accept: `Sunday, 06-Nov-94 08:49:37 GMT` and
    /// `Sun Nov  6 08:49:37 1994`. Anything else is nil.
    public static func parse(_ text: String) -> Date? {
        var reader = ASCIIReader(text.utf8)
        guard reader.isASCII, reader.skipLetters() >= 3 else { return nil }
        let fields: CivilTime?
        if reader.skip(",") {
            guard reader.skip(" "), let day = reader.digits(count: 2) else { return nil }
            if reader.skip(" ") {
                fields = fixDate(day: day, &reader)
            } else {
                fields = rfc850(day: day, &reader)
            }
        } else {
            fields = asctime(&reader)
        }
        guard let fields, reader.isAtEnd, let seconds = fields.unixSeconds else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }

    /// `Nov 1994 08:49:37 GMT` after `Sun, 06 `.
    private static func fixDate(day: Int, _ reader: inout ASCIIReader) -> CivilTime? {
        guard let month = reader.month(), reader.skip(" "), let year = reader.digits(count: 4), reader.skip(" "),
            let time = reader.clock(), reader.skip(" GMT")
        else { return nil }
        return CivilTime(year: year, month: month, day: day, time: time)
    }

    /// `Nov-94 08:49:37 GMT` after `Sunday, 06-`; a two-digit year below
    /// 70 is in this century.
    private static func rfc850(day: Int, _ reader: inout ASCIIReader) -> CivilTime? {
        guard reader.skip("-"), let month = reader.month(), reader.skip("-"), let year = reader.digits(count: 2),
            reader.skip(" "), let time = reader.clock(), reader.skip(" GMT")
        else { return nil }
        return CivilTime(year: year < 70 ? 2000 + year : 1900 + year, month: month, day: day, time: time)
    }

    /// ` Nov  6 08:49:37 1994` after `Sun`.
    private static func asctime(_ reader: inout ASCIIReader) -> CivilTime? {
        guard reader.skip(" "), let month = reader.month(), reader.skip(" ") else { return nil }
        let day: Int?
        if reader.skip(" ") { day = reader.digits(count: 1) } else { day = reader.digits(count: 2) }
        guard let day, reader.skip(" "), let time = reader.clock(), reader.skip(" "),
            let year = reader.digits(count: 4)
        else { return nil }
        return CivilTime(year: year, month: month, day: day, time: time)
    }
}

/// A proleptic Gregorian date and time of day in UTC.
struct CivilTime {
    var year: Int
    var month: Int
    var day: Int
    var hour: Int
    var minute: Int
    var second: Int

    init(year: Int, month: Int, day: Int, time: (hour: Int, minute: Int, second: Int)) {
        (self.year, self.month, self.day) = (year, month, day)
        (hour, minute, second) = time
    }

    /// Seconds since 1970, or nil when a field is out of range (a leap
    /// second, `:60`, is read as the next second).
    var unixSeconds: Int64? {
        guard (1...12).contains(month), (1...Self.days(inMonth: month, of: year)).contains(day),
            (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second)
        else { return nil }
        // Days from civil, after Howard Hinnant's algorithm.
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let monthFromMarch = Int64(month > 2 ? month - 3 : month + 9)
        let dayOfYear = (153 * monthFromMarch + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }

    static func days(inMonth month: Int, of year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}

/// A cursor over the bytes of a date.
struct ASCIIReader {
    private let bytes: [UInt8]
    private var index = 0

    init(_ utf8: String.UTF8View) { bytes = Array(utf8.prefix(64)) + (utf8.count > 64 ? [0xff] : []) }

    var isASCII: Bool { bytes.allSatisfy { $0 < 0x80 } }
    var isAtEnd: Bool { index == bytes.count }

    /// Moves past `literal` if it comes next.
    mutating func skip(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard bytes.count - index >= count else { return false }
        let matches = literal.withUTF8Buffer { expected in
            expected.indices.allSatisfy { bytes[index + $0] == expected[$0] }
        }
        if matches { index += count }
        return matches
    }

    /// Exactly `count` decimal digits.
    mutating func digits(count: Int) -> Int? {
        guard bytes.count - index >= count else { return nil }
        var value = 0
        for byte in bytes[index..<index + count] {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        index += count
        return value
    }

    /// Moves past ASCII letters: how many.
    mutating func skipLetters() -> Int {
        let start = index
        while index < bytes.count, (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(bytes[index] & 0xdf) { index += 1 }
        return index - start
    }

    /// `Jan` … `Dec` as 1 … 12.
    mutating func month() -> Int? {
        guard bytes.count - index >= 3 else { return nil }
        let name = bytes[index..<index + 3]
        guard let position = Self.months.firstIndex(where: { $0.utf8.elementsEqual(name) }) else { return nil }
        index += 3
        return position + 1
    }

    /// `08:49:37`.
    mutating func clock() -> (hour: Int, minute: Int, second: Int)? {
        guard let hour = digits(count: 2), skip(":"), let minute = digits(count: 2), skip(":"),
            let second = digits(count: 2)
        else { return nil }
        return (hour, minute, second)
    }

    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
}
