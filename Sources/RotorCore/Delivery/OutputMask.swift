/// A hook's captured output as Rotor keeps it: secrets masked first, then
/// cut, so that no part of a secret survives at the cut.
public enum OutputMask {
    public static let replacement = "<redacted>"

    /// The first `limit` bytes of `bytes` with every occurrence of a secret
    /// (of at least 4 characters) replaced, where `bytes` holds up to
    /// `limit` plus the longest secret's length (``captureLimit(_:secrets:)``)
    /// and `total` is how many bytes were written in all. A secret that
    /// crosses the cut is dropped with the rest, never shown in part.
    public static func kept(_ bytes: [UInt8], total: Int, limit: Int, secrets: [String]) -> String {
        var ranges: [Range<Int>] = []
        for secret in Set(secrets) where secret.count >= 4 {
            let needle = Array(secret.utf8)
            var start = 0
            while start + needle.count <= bytes.count {
                if bytes[start] == needle[0], Array(bytes[start..<(start + needle.count)]) == needle {
                    ranges.append(start..<(start + needle.count))
                    start += needle.count
                } else {
                    start += 1
                }
            }
        }
        // Overlapping matches of different secrets join into one masked stretch.
        var merged: [Range<Int>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, range.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        var cut = min(limit, bytes.count)
        if let crossing = merged.first(where: { $0.lowerBound < cut && $0.upperBound > cut }) {
            cut = crossing.lowerBound
        }
        var out: [UInt8] = []
        out.reserveCapacity(cut)
        var position = 0
        for range in merged where range.lowerBound < cut {
            out += bytes[position..<range.lowerBound]
            out += Array(replacement.utf8)
            position = range.upperBound
        }
        if position < cut { out += bytes[position..<cut] }
        var text = String(decoding: out, as: UTF8.self)
        if total > cut { text += "\n[… \(total - cut) more bytes not kept]" }
        return text
    }

    /// How many bytes to capture so that ``kept(_:total:limit:secrets:)`` can
    /// see every secret that starts before `limit` whole.
    public static func captureLimit(_ limit: Int, secrets: [String]) -> Int {
        limit + (secrets.map(\.utf8.count).max() ?? 0)
    }
}
