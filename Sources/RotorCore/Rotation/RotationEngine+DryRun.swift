/// What `rotor rotate --dry-run` checked.
public struct DryRunReport: Sendable {
    public struct Check: Sendable {
        public var description: String
        public var passed: Bool
    }

    public var checks: [Check]
    public var passed: Bool { checks.allSatisfy(\.passed) }
}

extension RotationEngine {
    /// Checks everything that can be checked without rotating, and changes
    /// nothing: no unresolved rotation, the stored pair still gets a token,
    /// the identity (if any) can sign in, and every target can take the pair.
    public func dryRun(_ name: String) async throws -> DryRunReport {
        let app = try ledger.read { try AppRegistry.find(name, in: $0) }
        var checks: [DryRunReport.Check] = []
        let open = try ledger.read { try $0.unresolvedRotation(appID: app.id) }
        checks.append(
            .init(
                description: open.map { "rotation \($0.id) is still \($0.state.rawValue): resolve it first" }
                    ?? "no unresolved rotation", passed: open == nil))
        let (clientID, secret) = try currentPair(app)
        do {
            _ = try await api.clientCredentialsGrant(apiURL: app.apiURL, clientID: clientID, secret: secret)
            checks.append(
                .init(description: "the stored pair (version \(app.currentVersion)) gets a token", passed: true))
        } catch {
            checks.append(.init(description: "the stored pair does not get a token: \(error)", passed: false))
        }
        if let identityID = app.identityID {
            let (identity, secrets) = try ledger.read {
                (try $0.identity(id: identityID), try $0.identitySecrets(id: identityID))
            }
            if let identity, let secrets {
                let password = try ledger.keyring.open(
                    secrets.password, for: .identity(id: identityID, field: .password))
                do {
                    _ = try await api.passwordGrant(
                        apiURL: identity.apiURL, username: identity.username, password: password)
                    checks.append(.init(description: "identity \(identity.name) can sign in", passed: true))
                } catch {
                    checks.append(
                        .init(description: "identity \(identity.name) cannot sign in: \(error)", passed: false))
                }
            }
        }
        return DryRunReport(checks: checks)
    }
}
