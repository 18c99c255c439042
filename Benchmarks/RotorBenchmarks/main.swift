// Rotor benchmarks. Each figure is compared with a baseline measured in the
// same run on the same data, and reported as a ratio.
//
//   swift build -c release && .build/release/RotorBenchmarks [--apps N] [--runs N]
//
// Benchmarks measure; they assert nothing.

import AsyncHTTPClient
import Foundation
import NIOCore
import RotorCore
import RotorSQLite
import RotorTesting
import VitaleraClient
import VitaleraSandbox

var apps = 10_000
var runs = 5
var seedOnly: String?
var grants = 3000
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    switch flag {
    case "--apps": apps = Int(arguments.popFirst() ?? "") ?? apps
    case "--runs": runs = Int(arguments.popFirst() ?? "") ?? runs
    case "--grants": grants = Int(arguments.popFirst() ?? "") ?? grants
    // Writes a seeded database (and its key) to PATH and exits, for profiling.
    case "--seed-only": seedOnly = arguments.popFirst()
    default:
        print("usage: RotorBenchmarks [--apps N] [--runs N] [--grants N] [--seed-only PATH]")
        exit(64)
    }
}

let buildDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    .deletingLastPathComponent()
let rotor = buildDirectory.appendingPathComponent("rotor").path
let sqlite3 = "/usr/bin/sqlite3"
guard FileManager.default.isExecutableFile(atPath: rotor), FileManager.default.isExecutableFile(atPath: sqlite3) else {
    print("needs \(rotor) (swift build -c release) and \(sqlite3) (apt-get install sqlite3)")
    exit(1)
}

/// Wall-clock seconds of one whole process, its stdout discarded.
func timeProcess(_ launch: [String], environment: [String: String] = [:]) throws -> Double {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: launch[0])
    process.arguments = Array(launch.dropFirst())
    process.environment = ["PATH": "/usr/bin:/bin"].merging(environment) { $1 }
    process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
    let start = ContinuousClock.now
    try process.run()
    process.waitUntilExit()
    let elapsed = ContinuousClock.now - start
    guard process.terminationStatus == 0 else { throw RotorError(.io, "\(launch) exited \(process.terminationStatus)") }
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

func report(_ name: String, rotor: [Double], baseline: [Double], baselineName: String) {
    let r = median(rotor)
    let b = median(baseline)
    print(
        String(
            format: "%@: rotor %.1f ms, %@ %.1f ms, ratio %.2fx (median of %d)", name, r * 1000, baselineName, b * 1000,
            r / b, rotor.count))
}

func seededDatabase(apps: Int) throws -> (TemporaryDirectory, String) {
    let db = try TestDatabase(clock: InstantClock(Date()))
    try Seeder.addApps(apps, to: db.ledger)
    return (db.directory, db.path)
}

if let seedOnly {
    let store = try SQLiteStore.open(path: seedOnly, create: true)
    let ledger = try Ledger.initialize(store: store, keyFile: seedOnly + ".key", clock: SystemClock(), actor: "bench")
        .ledger
    try Seeder.addApps(apps, to: ledger)
    print("seeded \(apps) apps into \(seedOnly)")
    exit(0)
}

print("Rotor benchmarks: \(apps) apps, \(runs) runs each, \(ProcessInfo.processInfo.activeProcessorCount) cores")

// 1. `rotor app list --json` as a whole process, against the sqlite3 CLI
//    printing the same rows as JSON.
do {
    let (directory, path) = try seededDatabase(apps: apps)
    let query = """
        SELECT a.name, a.application_id, c.client_id, a.schedule_kind, a.schedule_expr, c.fingerprint, c.created_at,
               (SELECT state FROM rotations r WHERE r.app_id = a.id ORDER BY id DESC LIMIT 1) AS last_state
        FROM apps a JOIN credentials c ON c.app_id = a.id AND c.version = a.current_version ORDER BY a.name
        """
    var rotorTimes: [Double] = []
    var baseTimes: [Double] = []
    for _ in 0..<runs {
        rotorTimes.append(try timeProcess([rotor, "app", "list", "--json", "--db", path]))
        baseTimes.append(try timeProcess([sqlite3, "-json", path, query]))
    }
    report("app list --json, \(apps) apps", rotor: rotorTimes, baseline: baseTimes, baselineName: "sqlite3 -json")
    _ = directory
}

// 2. `rotor key rotate` over every secret, against the sqlite3 CLI
//    rewriting the same blobs in one transaction (same rows, same fsyncs).
do {
    var rotorTimes: [Double] = []
    var baseTimes: [Double] = []
    for _ in 0..<runs {
        let (directory, path) = try seededDatabase(apps: apps)
        rotorTimes.append(try timeProcess([rotor, "key", "rotate", "--db", path]))
        baseTimes.append(
            try timeProcess([
                sqlite3, path,
                "PRAGMA synchronous=FULL; BEGIN IMMEDIATE; UPDATE credentials SET client_secret = randomblob(length(client_secret)); COMMIT;",
            ]))
        _ = directory
    }
    report("key rotate, \(apps) secrets", rotor: rotorTimes, baseline: baseTimes, baselineName: "sqlite3 UPDATE")
}

// 3. Client-credentials grants per second against the sandbox on loopback:
//    through Rotor's vendor client, and through a bare async-http-client loop
//    making the same request and parsing the same JSON. Alternating rounds.
do {
    let vendor = SandboxVendor()
    let application = await vendor.addApplication()
    let sandbox = try await SandboxServer.start(vendor: vendor)
    let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: VitaleraHTTPClient.configuration)
    let client = VitaleraHTTPClient(http: http)
    let secret = Secret(application.clientSecret)
    let body = try JSONSerialization.data(
        withJSONObject: [
            "grant_type": "client_credentials", "client_id": application.clientID,
            "client_secret": application.clientSecret,
        ], options: [.sortedKeys])

    func throughClient(_ count: Int) async throws -> Double {
        let start = ContinuousClock.now
        for _ in 0..<count {
            _ = try await client.clientCredentialsGrant(
                apiURL: sandbox.url, clientID: application.clientID, secret: secret)
        }
        let elapsed = ContinuousClock.now - start
        return Double(count) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    func bare(_ count: Int) async throws -> Double {
        let start = ContinuousClock.now
        for _ in 0..<count {
            var request = HTTPClientRequest(url: sandbox.url + "/api/auth/tokens/")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
            let response = try await http.execute(request, timeout: .seconds(30))
            let bytes = try await response.body.collect(upTo: 1 << 20)
            guard response.status == .ok,
                let object = try JSONSerialization.jsonObject(with: Data(buffer: bytes)) as? [String: Any],
                object["access_token"] is String
            else { throw RotorError(.io, "bad answer") }
        }
        let elapsed = ContinuousClock.now - start
        return Double(count) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    _ = try await throughClient(200)  // warm up the connection pool
    _ = try await bare(200)
    var clientRates: [Double] = []
    var bareRates: [Double] = []
    for _ in 0..<runs {
        clientRates.append(try await throughClient(grants / runs))
        bareRates.append(try await bare(grants / runs))
    }
    let c = median(clientRates)
    let b = median(bareRates)
    print(
        String(
            format:
                "client-credentials grants on loopback: client %.0f/s, bare async-http-client %.0f/s, bare/client %.2fx (median of %d rounds of %d)",
            c, b, b / c, runs, grants / runs))
    try await http.shutdown().get()
    await sandbox.stop()
}
