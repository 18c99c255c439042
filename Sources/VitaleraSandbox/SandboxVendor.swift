import Crypto
import Foundation
import RotorCore

/// The state and rules of the imitation vitalera vendor, apart from HTTP:
/// applications and users, real HS256-signed JWTs with expiry, the old pair
/// dead the instant a rotation commits, and the documented error bodies.
public actor SandboxVendor {
    public private(set) var settings: SandboxSettings
    private var applications: [String: SandboxApplication] = [:]
    private var users: [String: SandboxUser] = [:]
    private var refreshTokens: [String: String] = [:]
    private var faults: [SandboxFault] = []
    private var counts: [SandboxEndpoint: Int] = [:]
    /// Endpoints whose answers wait for `release`, and the answers waiting.
    private var held: Set<SandboxEndpoint> = []
    private var waiting: [SandboxEndpoint: [CheckedContinuation<Void, Never>]] = [:]
    private let signingKey = SymmetricKey(size: .bits256)
    private let clock: any WallClock

    public init(settings: SandboxSettings = SandboxSettings(), clock: any WallClock = SystemClock()) {
        self.settings = settings
        self.clock = clock
    }

    // MARK: set-up and inspection

    /// Registers an application with a random pair and returns it.
    @discardableResult
    public func addApplication(name: String = "TestApp", organization: String = "org-1", id: String? = nil)
        -> SandboxApplication
    {
        let application = SandboxApplication(
            id: id ?? "app-\(Self.random(6))", name: name, organization: organization,
            clientID: "cid-\(Self.random(8))", clientSecret: Self.random(24), generation: 1, rotations: 0)
        applications[application.id] = application
        return application
    }

    /// Registers a user with a random password and returns it.
    @discardableResult
    public func addUser(username: String, organization: String = "org-1") -> SandboxUser {
        let user = SandboxUser(
            id: "user-\(Self.random(6))", username: username, password: Self.random(16), organization: organization)
        users[username] = user
        return user
    }

    /// The application as the vendor sees it now, its current pair included.
    public func application(_ id: String) -> SandboxApplication? { applications[id] }

    public func allApplications() -> [SandboxApplication] {
        applications.values.sorted { $0.id < $1.id }
    }

    /// Requests seen per endpoint.
    public func requestCount(_ endpoint: SandboxEndpoint) -> Int { counts[endpoint, default: 0] }

    public func update(_ change: (inout SandboxSettings) -> Void) {
        change(&settings)
    }

    public func setSettings(_ new: SandboxSettings) {
        settings = new
    }

    public func inject(_ fault: SandboxFault) {
        faults.append(fault)
    }

    public func clearFaults() {
        faults.removeAll()
    }

    public func activeFaults() -> [SandboxFault] { faults }

    /// From now on, requests to `endpoint` are counted and then wait, before
    /// the vendor acts on them, until ``release(_:)``: a test can put
    /// something in place while an answer is on its way, however busy the machine.
    public func hold(_ endpoint: SandboxEndpoint) {
        held.insert(endpoint)
    }

    /// Lets the waiting requests to `endpoint` and all later ones through.
    public func release(_ endpoint: SandboxEndpoint) {
        held.remove(endpoint)
        for continuation in waiting.removeValue(forKey: endpoint) ?? [] { continuation.resume() }
    }

    func waitIfHeld(_ endpoint: SandboxEndpoint) async {
        guard held.contains(endpoint) else { return }
        await withCheckedContinuation { waiting[endpoint, default: []].append($0) }
    }

    /// Counts a request and takes the first fault for its endpoint, if any.
    func begin(_ endpoint: SandboxEndpoint) -> SandboxFault? {
        counts[endpoint, default: 0] += 1
        guard let index = faults.firstIndex(where: { $0.endpoint == endpoint }) else { return nil }
        let fault = faults[index]
        if let count = fault.count {
            if count <= 1 {
                faults.remove(at: index)
            } else {
                faults[index].count = count - 1
            }
        }
        return fault
    }

    // MARK: endpoints

    /// 1 and 2: `POST /api/auth/tokens/`.
    func grant(_ data: Data) -> SandboxAnswer {
        let body = Self.object(data)
        switch body["grant_type"] as? String {
        case "client_credentials":
            guard let clientID = body["client_id"] as? String, let secret = body["client_secret"] as? String else {
                return .json(
                    400, ["client_id": ["This field is required."], "client_secret": ["This field is required."]])
            }
            guard
                let application = applications.values.first(where: {
                    $0.clientID == clientID && Self.constantTimeEqual($0.clientSecret, secret)
                })
            else {
                return .authError(401, "invalid_client", "Invalid client credentials")
            }
            return .json(
                200,
                [
                    "access_token": sign(
                        subject: application.clientID, kind: "app", organization: application.organization,
                        application: application.id, generation: application.generation),
                    "token_type": "Bearer", "expires_in": settings.tokenLifetime,
                ])
        case "password":
            guard let username = body["username"] as? String, let password = body["password"] as? String else {
                return .json(400, ["username": ["This field is required."], "password": ["This field is required."]])
            }
            guard let user = users[username], Self.constantTimeEqual(user.password, password) else {
                return .authError(401, "invalid_grant", "Invalid username or password")
            }
            return userTokens(user)
        case nil:
            return .json(400, ["grant_type": ["This field is required."]])
        default:
            return .authError(400, "unsupported_grant_type", "Unsupported grant type")
        }
    }

    /// 3: `POST /api/auth/tokens/refresh/`. The bearer may have expired, but
    /// must be a token this vendor signed for the same user.
    func refresh(bearer: String?, _ data: Data) -> SandboxAnswer {
        let body = Self.object(data)
        guard let bearer, let claims = verify(bearer, allowExpired: true), claims["typ"] as? String == "user" else {
            return .detail(401, "Given token not valid for any token type", code: "token_not_valid")
        }
        guard let token = body["refresh_token"] as? String else {
            return .json(400, ["refresh_token": ["This field is required."]])
        }
        guard let username = refreshTokens[token], let user = users[username], user.id == claims["sub"] as? String
        else {
            return .detail(401, "Token is invalid or expired", code: "token_not_valid")
        }
        refreshTokens[token] = nil
        return userTokens(user)
    }

    /// 4: `GET /api/auth/tokens/validate/`.
    func validate(bearer: String?) -> SandboxAnswer {
        if let failure = checkBearer(bearer).failure { return failure }
        return .json(200, ["valid": true])
    }

    /// 5: `POST /api/applications/rotate_credentials/`. Commits the new pair
    /// before answering; `afterCommit` then decides what reaches the client.
    func rotate(bearer: String?, _ data: Data) -> SandboxAnswer {
        let body = Self.object(data)
        let check = checkBearer(bearer)
        if let failure = check.failure { return failure }
        let claims = check.claims
        guard
            let applicationID = (body["application_id"] as? String) ?? (body["application_id"] as? Int).map(String.init)
        else {
            return .json(400, ["application_id": ["This field is required."]])
        }
        guard var application = applications[applicationID] else {
            return .detail(404, "Not found.", code: "not_found")
        }
        let allowed: Bool
        switch claims["typ"] as? String {
        case "app": allowed = claims["app"] as? String == application.id
        case "user": allowed = claims["org"] as? String == application.organization
        default: allowed = false
        }
        guard allowed else {
            return .detail(403, "You do not have permission to perform this action.", code: "permission_denied")
        }
        application.clientID = "cid-\(Self.random(8))"
        application.clientSecret = Self.random(24)
        application.generation += 1
        application.rotations += 1
        applications[application.id] = application
        return .json(
            200,
            [
                "id": application.id, "name": application.name, "organization": application.organization,
                "client_id": application.clientID, "client_secret": application.clientSecret,
                "application_types": ["API"],
            ])
    }

    // MARK: tokens

    private func userTokens(_ user: SandboxUser) -> SandboxAnswer {
        let refresh = Self.random(32)
        refreshTokens[refresh] = user.username
        let access = sign(
            subject: user.id, kind: "user", organization: user.organization, application: nil, generation: nil)
        return .json(
            200,
            [
                "id_token": sign(
                    subject: user.id, kind: "id", organization: user.organization, application: nil, generation: nil),
                "access_token": access, "refresh_token": refresh, "sub": user.id,
            ])
    }

    private func sign(subject: String, kind: String, organization: String, application: String?, generation: Int?)
        -> String
    {
        let now = Int(clock.now.timeIntervalSince1970)
        var claims: [String: Any] = [
            "sub": subject, "typ": kind, "org": organization, "iat": now, "exp": now + settings.tokenLifetime,
            "jti": Self.random(8),
        ]
        if let application { claims["app"] = application }
        if let generation { claims["gen"] = generation }
        let header = JWT.base64URLEncode(Data(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
        let payload = JWT.base64URLEncode(
            (try? JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys])) ?? Data())
        let signature = HMAC<SHA256>.authenticationCode(for: Data("\(header).\(payload)".utf8), using: signingKey)
        return "\(header).\(payload).\(JWT.base64URLEncode(Data(signature)))"
    }

    /// The claims of a token this vendor signed; nil when the signature is
    /// wrong or (unless allowed) it has expired.
    private func verify(_ token: String, allowExpired: Bool = false) -> [String: Any]? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let signature = JWT.base64URLDecode(String(parts[2])),
            HMAC<SHA256>.isValidAuthenticationCode(
                signature, authenticating: Data("\(parts[0]).\(parts[1])".utf8), using: signingKey),
            let claims = JWT.claims(token), let exp = claims["exp"] as? Int
        else { return nil }
        if !allowExpired && TimeInterval(exp) <= clock.now.timeIntervalSince1970 { return nil }
        return claims
    }

    private func checkBearer(_ bearer: String?) -> (claims: [String: Any], failure: SandboxAnswer?) {
        guard let bearer else {
            return ([:], .detail(401, "Authentication credentials were not provided.", code: "not_authenticated"))
        }
        guard let claims = verify(bearer, allowExpired: true) else {
            return ([:], .detail(401, "Given token not valid for any token type", code: "token_not_valid"))
        }
        if let exp = claims["exp"] as? Int, TimeInterval(exp) <= clock.now.timeIntervalSince1970 {
            return ([:], .authError(401, "expired_token", "Access token expired"))
        }
        if claims["typ"] as? String == "app" {
            guard let id = claims["app"] as? String, let application = applications[id] else {
                return ([:], .detail(401, "Given token not valid for any token type", code: "token_not_valid"))
            }
            if !settings.tokensSurviveRotation, claims["gen"] as? Int != application.generation {
                return ([:], .detail(401, "Given token not valid for any token type", code: "token_not_valid"))
            }
        } else if claims["typ"] as? String != "user" {
            return ([:], .detail(401, "Given token not valid for any token type", code: "token_not_valid"))
        }
        return (claims, nil)
    }

    /// A request's JSON object; empty when there is none.
    static func object(_ data: Data) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    }

    static func random(_ bytes: Int) -> String {
        let key = SymmetricKey(size: SymmetricKeySize(bitCount: bytes * 8))
        return key.withUnsafeBytes { JWT.base64URLEncode(Data($0)) }
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
