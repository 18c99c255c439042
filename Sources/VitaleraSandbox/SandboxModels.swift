import Foundation

/// Switchable behaviour of the sandbox vendor.
public struct SandboxSettings: Sendable, Codable, Equatable {
    /// Access token lifetime in seconds (the vendor's is 3600).
    public var tokenLifetime: Int
    /// Whether tokens issued before a rotation keep working after it. The
    /// vendor does not document this; Rotor must work either way.
    public var tokensSurviveRotation: Bool

    public init(tokenLifetime: Int = 3600, tokensSurviveRotation: Bool = true) {
        self.tokenLifetime = tokenLifetime
        self.tokensSurviveRotation = tokensSurviveRotation
    }

    enum CodingKeys: String, CodingKey {
        case tokenLifetime = "token_lifetime"
        case tokensSurviveRotation = "tokens_survive_rotation"
    }
}

/// The sandbox's endpoints, for fault injection and request counts.
public enum SandboxEndpoint: String, Sendable, Codable, CaseIterable {
    /// `POST /api/auth/tokens/` with `grant_type=client_credentials`.
    case grant
    /// `POST /api/auth/tokens/` with `grant_type=password`.
    case password
    case refresh
    case validate
    case rotate
}

/// A fault injected into the next requests of one endpoint.
public struct SandboxFault: Sendable, Codable, Equatable {
    /// What happens to the answer of `rotate` after the rotation is committed.
    public enum AfterCommit: String, Sendable, Codable {
        /// The connection is cut in the middle of the answer.
        case drop
        /// The answer is 200 with a body that is not JSON.
        case garbage
        /// The answer is held back for `delay_after_commit_ms`, then sent.
        case delay
    }

    public var endpoint: SandboxEndpoint
    /// Answer with this status instead of handling the request.
    public var status: Int?
    /// With `status`: a `Retry-After` header, in seconds.
    public var retryAfter: Int?
    /// With `status`: the body to send (default: a documented error body).
    public var body: String?
    /// Wait this long before handling the request.
    public var latencyMS: Int?
    /// With `status`: send the body one byte at a time, this many
    /// milliseconds apart (a server that never quite stops answering).
    public var dripMS: Int?
    /// For `rotate`: what happens after the new pair is committed.
    public var afterCommit: AfterCommit?
    public var delayAfterCommitMS: Int?
    /// How many requests the fault applies to; nil for all until cleared.
    public var count: Int?

    public init(
        endpoint: SandboxEndpoint, status: Int? = nil, retryAfter: Int? = nil, body: String? = nil,
        latencyMS: Int? = nil, dripMS: Int? = nil, afterCommit: AfterCommit? = nil, delayAfterCommitMS: Int? = nil,
        count: Int? = 1
    ) {
        self.endpoint = endpoint
        self.status = status
        self.retryAfter = retryAfter
        self.body = body
        self.latencyMS = latencyMS
        self.dripMS = dripMS
        self.afterCommit = afterCommit
        self.delayAfterCommitMS = delayAfterCommitMS
        self.count = count
    }

    enum CodingKeys: String, CodingKey {
        case endpoint, status, body, count
        case retryAfter = "retry_after"
        case latencyMS = "latency_ms"
        case dripMS = "drip_ms"
        case afterCommit = "after_commit"
        case delayAfterCommitMS = "delay_after_commit_ms"
    }
}

/// An application registered at the sandbox vendor.
public struct SandboxApplication: Sendable, Codable, Equatable {
    public var id: String
    public var name: String
    public var organization: String
    public var clientID: String
    public var clientSecret: String
    /// Grows with each rotation; app tokens carry the generation they were issued in.
    public var generation: Int
    public var rotations: Int

    enum CodingKeys: String, CodingKey {
        case id, name, organization, generation, rotations
        case clientID = "client_id"
        case clientSecret = "client_secret"
    }
}

/// A user of an organization, for the password grant.
public struct SandboxUser: Sendable, Codable, Equatable {
    public var id: String
    public var username: String
    public var password: String
    public var organization: String
}

/// An HTTP answer before it is written.
/// The body of `POST /_sandbox/applications`: a new application with a random pair.
struct SandboxNewApplication: Decodable {
    var name: String?
    /// The demo user's organization unless told otherwise, so its identity may rotate it.
    var organization: String?

    var isPlausible: Bool {
        [name, organization].allSatisfy { ($0?.count ?? 0) <= 100 && !($0?.isEmpty ?? false) }
    }
}

public struct SandboxAnswer: Sendable, Equatable {
    public var status: Int
    public var body: String
    public var headers: [String: String]

    public init(status: Int, body: String, headers: [String: String] = [:]) {
        self.status = status
        self.body = body
        self.headers = headers
    }

    static func json(_ status: Int, _ object: [String: Any]) -> SandboxAnswer {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return SandboxAnswer(status: status, body: String(decoding: data, as: UTF8.self))
    }

    /// `{"errors":[{"errorType","message"}]}`, as the authentication pages show.
    static func authError(_ status: Int, _ type: String, _ message: String) -> SandboxAnswer {
        json(status, ["errors": [["errorType": type, "message": message]]])
    }

    /// `{"detail","code"}`, as the error-handling page shows.
    static func detail(_ status: Int, _ detail: String, code: String) -> SandboxAnswer {
        json(status, ["detail": detail, "code": code])
    }
}
