/// Rotations, newest first, with their app's name.
public struct RotationHistory: Sendable {
    public let ledger: Ledger

    public init(ledger: Ledger) {
        self.ledger = ledger
    }

    public struct Entry: Sendable, Equatable {
        public var app: String
        public var rotation: RotationSummary

        public var json: JSONValue {
            guard case .object(var members) = rotation.json else { return .null }
            members["app"] = .string(app)
            return .object(members)
        }
    }

    public func list(app name: String?, limit: Int) async throws -> [Entry] {
        try await ledger.read { reader in
            let names = Dictionary(uniqueKeysWithValues: try reader.apps().map { ($0.id, $0.name) })
            let appID = try name.map { try AppRegistry.find($0, in: reader).id }
            return try reader.rotations(appID: appID, limit: limit).map {
                Entry(app: names[$0.appID] ?? "app \($0.appID)", rotation: $0)
            }
        }
    }
}
