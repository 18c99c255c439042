import Foundation
import RotorTesting
import Testing

/// The PostgreSQL server the PostgreSQL tests run against (postgres.md,
/// "Tests"): started from Debian's binaries in a temporary directory on a
/// loopback port, and gone afterwards.
@Suite(.serialized) struct PostgresServerTests {
    @Test func aServerStartsAnswersOverItsSocketAndTCPAndStopsWithoutATrace() async throws {
        let server = try await PostgresServer.start()
        let directory = server.directory.path
        let pid = try #require(server.pid)
        #expect(kill(pid, 0) == 0)
        try await server.createDatabase("rotor_test")
        let version = try await server.psql("rotor_test", "SHOW server_version_num")
        #expect((Int(version.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) >= 150000, "\(version)")
        // TCP on loopback asks for the password; the URL carries it.
        #expect(server.url("rotor_test").hasPrefix("postgres://rotor:"))
        #expect(server.url("rotor_test").contains("@127.0.0.1:\(server.port)/rotor_test"))
        let tcp = Process()
        tcp.executableURL = URL(fileURLWithPath: "\(server.binaries)/psql")
        tcp.arguments = ["-X", "-A", "-t", "-c", "SELECT current_user", server.url("rotor_test")]
        let output = Pipe()
        tcp.standardOutput = output
        tcp.standardError = output
        try tcp.run()
        let answer = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        tcp.waitUntilExit()
        #expect(tcp.terminationStatus == 0 && answer.contains("rotor"), "\(answer)")

        try await server.stop()
        #expect(kill(pid, 0) != 0, "the postmaster still runs")
        #expect(FileManager.default.fileExists(atPath: directory))
        _ = server
    }
}
