import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import RotorCore

/// `--listen-token-file PATH`: every path of `--listen` but `/healthz`
/// requires `Authorization: Bearer <token>`.
struct ListenToken: Sendable {
    /// SHA-256 of the token: requests are compared in constant time, digest against digest.
    let digest: [UInt8]

    /// Reads the token: the file's text without surrounding white space, at
    /// most 4 KiB, not readable by others.
    init(file path: String) throws(RotorError) {
        let bytes: [UInt8]
        do {
            bytes = try Files.read(path, limit: 4096)
        } catch {
            throw RotorError(.invalidInput, "--listen-token-file: \(error)")
        }
        if let mode = try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int,
            mode & 0o004 != 0
        {
            throw RotorError(
                .invalidInput,
                "--listen-token-file \(UserText.shown(path)) is readable by every user; chmod o-r it (600 or 640)")
        }
        let token = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else {
            throw RotorError(.invalidInput, "--listen-token-file \(UserText.shown(path)) is empty; put a token in it")
        }
        digest = Array(SHA256.hash(data: Array(token.utf8)))
    }

    /// nil when the request carries the token, else the 401 to answer.
    func refusal(_ request: Request) -> Response? {
        let given = request.headers[.authorization].flatMap { value -> [UInt8]? in
            guard value.hasPrefix("Bearer ") else { return nil }
            return Array(SHA256.hash(data: Array(value.dropFirst("Bearer ".count).utf8)))
        }
        if let given, given.count == digest.count, zip(given, digest).reduce(0, { $0 | ($1.0 ^ $1.1) }) == 0 {
            return nil
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        headers[.wwwAuthenticate] = "Bearer realm=\"rotor\""
        return Response(
            status: .unauthorized, headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(string: "a bearer token is required (--listen-token-file)\n")))
    }
}
