import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import RotorCore
import ServiceLifecycle

/// `rotor run --token-socket PATH`: the token broker served as HTTP over a
/// Unix socket, `GET /v1/token/NAME` → `{"access_token","token_type","expires_at"}`.
/// The peer is known from the kernel (`SO_PEERCRED`), never from the request.
enum TokenSocket {
    /// A request's context that keeps its connection, to ask the kernel who is at the other end.
    struct Context: RequestContext {
        var coreContext: CoreRequestContextStorage
        let channel: any Channel

        init(source: ApplicationRequestContextSource) {
            coreContext = .init(source: source)
            channel = source.channel
        }
    }

    /// Checks the socket's settings before anything starts: its directory
    /// exists, nothing but a stale socket is at the path (a live one is
    /// another process's), the mode is octal bits and the group exists.
    static func prepare(path: String, mode: String, group: String?) throws(RotorError) -> (mode: mode_t, gid: gid_t?) {
        guard let bits = Int(mode, radix: 8), (0...0o777).contains(bits), mode.count <= 4 else {
            throw RotorError(
                .invalidInput, "--token-socket-mode takes octal permission bits like 0660, not \(UserText.quoted(mode))"
            )
        }
        let gid = try group.map { name throws(RotorError) -> gid_t in
            guard let entry = getgrnam(name) else {
                throw RotorError(.invalidInput, "--token-socket-group: no group named \(UserText.shown(name))")
            }
            return entry.pointee.gr_gid
        }
        guard path.utf8.count < 108 else {
            throw RotorError(.invalidInput, "--token-socket: a socket path is at most 107 bytes long")
        }
        let directory = (path as NSString).deletingLastPathComponent
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.isEmpty ? "." : directory, isDirectory: &isDirectory),
            isDirectory.boolValue
        else {
            throw RotorError(.invalidInput, "--token-socket: the directory \(UserText.shown(directory)) does not exist")
        }
        if let info = Files.status(path) {
            guard info.st_mode & S_IFMT == S_IFSOCK else {
                throw RotorError(
                    .invalidInput,
                    "--token-socket: \(UserText.shown(path)) exists and is not a socket; refusing to replace it")
            }
            if isServed(path) {
                throw RotorError(
                    .invalidInput,
                    "--token-socket: another process serves \(UserText.shown(path)); stop it or pick another path")
            }
            unlink(path)
        }
        return (mode_t(bits), gid)
    }

    /// Whether a process accepts connections on the socket at `path`.
    static func isServed(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in path.utf8.enumerated() where index < buffer.count - 1 { buffer[index] = byte }
        }
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
            }
        }
    }

    /// The peer's credentials from the kernel; nil if they cannot be read.
    static func peer(of channel: any Channel) async -> PeerCredentials? {
        guard let provider = channel as? any SocketOptionProvider,
            let credentials: PeerCredentialsLayout = try? await provider.unsafeGetSocketOption(
                level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED)
            ).get()
        else { return nil }
        return PeerCredentials(
            pid: credentials.pid, uid: credentials.uid, gid: credentials.gid,
            groups: PeerCredentials.supplementaryGroups(of: credentials.pid))
    }

    /// `struct ucred` of <sys/socket.h>, which Glibc's module does not export.
    struct PeerCredentialsLayout: Sendable {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }

    static func application(broker: TokenBroker, path: String, mode: mode_t, gid: gid_t?, logger: Logger)
        -> some ApplicationProtocol
    {
        let router = Router(context: Context.self)
        router.get("/v1/token/:name") { _, context -> Response in
            let name = context.parameters.get("name") ?? ""
            guard let peer = await peer(of: context.channel) else {
                return refusal(.forbidden, "the peer's credentials cannot be read")
            }
            do throws(TokenBroker.Refusal) {
                let issued = try await broker.token(for: name, peer: peer)
                let body: JSONValue = [
                    "access_token": .string(issued.token.reveal()), "token_type": "Bearer",
                    "expires_at": .string(RFC3339.format(issued.expiresAt)),
                ]
                var response = OpsServer.respond(.ok, "application/json", body.canonical + "\n")
                response.headers[.cacheControl] = "no-store"
                return response
            } catch {
                switch error {
                case .unknown(let message): return refusal(.notFound, message)
                case .denied(let message):
                    logger.warning("token refused", metadata: ["app": "\(name)", "uid": "\(peer.uid)"])
                    return refusal(.forbidden, message)
                case .unavailable(let message): return refusal(.serviceUnavailable, message)
                }
            }
        }
        return Application(
            router: router,
            configuration: ApplicationConfiguration(address: .unixDomainSocket(path: path), serverName: "rotor"),
            onServerRunning: { _ in
                chmod(path, mode)
                if let gid { chown(path, uid_t.max, gid) }
            })
    }

    static func refusal(_ status: HTTPResponse.Status, _ message: String) -> Response {
        let body: JSONValue = ["error": .string(message)]
        return OpsServer.respond(status, "application/json", body.canonical + "\n")
    }
}

/// Renews the broker's cached tokens every few seconds until shutdown.
struct TokenRenewalService: Service {
    let broker: TokenBroker
    var interval: Duration = .seconds(5)

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await broker.renewDue()
                try await Task.sleep(for: interval)
            }
        }
    }
}
