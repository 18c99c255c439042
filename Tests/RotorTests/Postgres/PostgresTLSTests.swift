import Foundation
import RotorCore
import RotorPostgres
import RotorSQL
import RotorTesting
import Testing

/// `sslmode` (postgres.md, "Connecting"): `verify-full` checks the
/// server's certificate and name against `sslrootcert` (or the system's
/// roots), `require` encrypts without checking, and the server sees TLS.
@Suite(.serialized) struct PostgresTLSTests {
    static func encrypted(_ store: PostgresStore) async throws -> Bool {
        try await store.read { reader in
            guard let tx = reader as? any SQLTransaction else { return false }
            let ssl: String? = try tx.value("SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            return ssl == "true"
        }
    }

    @Test func verifyFullChecksTheCertificateAndRequireEncrypts() async throws {
        let server = try await PostgresServer.start(tls: true)
        let base = "postgres://\(PostgresServer.user):\(PostgresServer.password)@localhost:\(server.port)/postgres"

        let verified = try await PostgresStore.open(
            try PostgresLocation(url: base + "?sslrootcert=\(server.certificateAuthority)", environment: [:]))
        #expect(try await Self.encrypted(verified))
        try await verified.close()

        // The same through PGSSLROOTCERT, as libpq reads it.
        let fromEnvironment = try await PostgresStore.open(
            try PostgresLocation(url: base, environment: ["PGSSLROOTCERT": server.certificateAuthority]))
        #expect(try await Self.encrypted(fromEnvironment))
        try await fromEnvironment.close()

        let required = try await PostgresStore.open(
            try PostgresLocation(
                url:
                    "postgres://\(PostgresServer.user):\(PostgresServer.password)@127.0.0.1:\(server.port)/postgres?sslmode=require",
                environment: [:]))
        #expect(try await Self.encrypted(required))
        try await required.close()

        // A certificate the system does not trust: refused in one line, without the password.
        do {
            _ = try await PostgresStore.open(try PostgresLocation(url: base, environment: [:]))
            Issue.record("a certificate from an unknown authority was accepted")
        } catch let error as RotorError {
            #expect(
                error.code == .databaseUnavailable && error.message.uppercased().contains("CERTIFICATE"), "\(error)")
            #expect(!error.message.contains(PostgresServer.password) && !error.message.contains("\n"), "\(error)")
        }
        // A root file that is not one: the same, before any connection.
        let bogus = server.directory.file("password")
        await #expect(throws: RotorError.self) {
            _ = try await PostgresStore.open(
                try PostgresLocation(url: base + "?sslrootcert=\(bogus)", environment: [:]))
        }
        try await server.stop()
    }
}
