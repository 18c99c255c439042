import Foundation

#if canImport(Glibc)
    import Glibc
#endif

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
        let app = try await ledger.read { try AppRegistry.find(name, in: $0) }
        var checks: [DryRunReport.Check] = []
        let open = try await ledger.read { try $0.unresolvedRotation(appID: app.id) }
        checks.append(
            .init(
                description: open.map { "rotation \($0.id) is still \($0.state.rawValue): resolve it first" }
                    ?? "no unresolved rotation", passed: open == nil))
        let pair = try await currentPair(app)
        do {
            _ = try await api.clientCredentialsGrant(apiURL: app.apiURL, clientID: pair.clientID, secret: pair.secret)
            checks.append(
                .init(description: "the stored pair (version \(app.currentVersion)) gets a token", passed: true))
        } catch {
            checks.append(.init(description: "the stored pair does not get a token: \(error)", passed: false))
        }
        if let identityID = app.identityID {
            let (identity, secrets) = try await ledger.read {
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
        for target in try await ledger.read({ try $0.targets(appID: app.id) }) where target.enabled {
            checks.append(Self.check(target))
        }
        return DryRunReport(checks: checks)
    }
}

extension RotationEngine {
    /// Whether a target could take a new pair now.
    static func check(_ target: TargetRecord) -> DryRunReport.Check {
        switch target.kind {
        case .file(let file):
            let directory = Files.directory(of: file.path)
            var info = stat()
            if lstat(file.path, &info) == 0, info.st_mode & S_IFMT == S_IFLNK {
                return .init(
                    description: "target \(target.id): \(file.path) is a symlink, which Rotor refuses", passed: false)
            }
            guard access(directory, W_OK) == 0 else {
                return .init(
                    description: "target \(target.id): directory \(directory) is missing or not writable", passed: false
                )
            }
            return .init(description: "target \(target.id): \(file.path) can be written", passed: true)
        case .exec(let exec):
            let ok = access("/bin/sh", X_OK) == 0
            return .init(
                description: "target \(target.id): /bin/sh \(ok ? "can run" : "cannot run") `\(exec.command)`",
                passed: ok)
        case .webhook(let webhook):
            if let file = webhook.secretFile, (try? WebhookRequest.signingKey(file)) == nil {
                return .init(
                    description: "target \(target.id): the signing key in \(file) cannot be read", passed: false)
            }
            return .init(
                description: "target \(target.id): a POST to \(webhook.shownURL) is sent at delivery (not tried now)",
                passed: true)
        }
    }
}
