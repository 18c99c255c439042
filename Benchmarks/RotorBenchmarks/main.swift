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
import RotorPostgres
import RotorSQLite
import RotorTesting
import VitaleraClient
import VitaleraSandbox

var apps = 10_000
var runs = 5
var seedOnly: String?
var grants = 3000
var auditEvents = 1_000_000
var only: String?
var idleSeconds = 60
var dueRotations = 1000
var bareLoopFile: String?
var scaleApps = 100_000
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    switch flag {
    case "--apps": apps = Int(arguments.popFirst() ?? "") ?? apps
    case "--runs": runs = Int(arguments.popFirst() ?? "") ?? runs
    case "--grants": grants = Int(arguments.popFirst() ?? "") ?? grants
    case "--audit-events": auditEvents = Int(arguments.popFirst() ?? "") ?? auditEvents
    case "--idle-seconds": idleSeconds = Int(arguments.popFirst() ?? "") ?? idleSeconds
    case "--rotations": dueRotations = Int(arguments.popFirst() ?? "") ?? dueRotations
    case "--scale-apps": scaleApps = Int(arguments.popFirst() ?? "") ?? scaleApps
    // One of: apps, grants, audit, idle, rotations, scale; engine, surfaces and postgres only when named.
    case "--only": only = arguments.popFirst()
    // Writes a seeded database (and its key) to PATH and exits, for profiling.
    case "--seed-only": seedOnly = arguments.popFirst()
    // Internal: the rotations benchmark's bare client, run as a process of its own.
    case "--bare-loop": bareLoopFile = arguments.popFirst()
    default:
        print(
            "usage: RotorBenchmarks [--apps N] [--runs N] [--grants N] [--audit-events N] [--only apps|grants|audit|idle|rotations|scale|engine|surfaces|postgres] [--idle-seconds N] [--rotations N] [--scale-apps N] [--seed-only PATH]"
        )
        exit(64)
    }
}

/// What the bare client process is given: the sandbox's URL and each application's id and pair.
struct BareLoopInput: Codable {
    var url: String
    var applications: [[String]]
}

/// The rotations benchmark's baseline: for each application, the HTTP calls
/// a rotation makes (grant, rotate, grant with the new pair, validate), 16 at a time.
func bareLoop(_ input: BareLoopInput) async throws {
    let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: VitaleraHTTPClient.configuration)
    let bareHTTP = BareClient(http: http, url: input.url)
    do {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var running = 0
            for application in input.applications {
                if running >= 16 {
                    try await group.next()
                    running -= 1
                }
                running += 1
                group.addTask {
                    let grant = try await bareHTTP.call(
                        "/api/auth/tokens/",
                        [
                            "grant_type": "client_credentials", "client_id": application[1],
                            "client_secret": application[2],
                        ],
                        bearer: nil)
                    let pair = try await bareHTTP.call(
                        "/api/applications/rotate_credentials/", ["application_id": application[0]],
                        bearer: grant["access_token"])
                    let verify = try await bareHTTP.call(
                        "/api/auth/tokens/",
                        [
                            "grant_type": "client_credentials", "client_id": pair["client_id"] ?? "",
                            "client_secret": pair["client_secret"] ?? "",
                        ],
                        bearer: nil)
                    _ = try await bareHTTP.call("/api/auth/tokens/validate/", nil, bearer: verify["access_token"])
                }
            }
            try await group.waitForAll()
        }
    } catch {
        try await http.shutdown().get()
        throw error
    }
    try await http.shutdown().get()
}

if let bareLoopFile {
    let input = try JSONDecoder().decode(BareLoopInput.self, from: Data(contentsOf: URL(fileURLWithPath: bareLoopFile)))
    try await bareLoop(input)
    exit(0)
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
    return seconds(elapsed)
}

/// The middle value; NaN for none (`--runs 0`).
func median(_ values: [Double]) -> Double { values.isEmpty ? .nan : values.sorted()[values.count / 2] }

/// A duration in seconds.
func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// CPU seconds (user + system) used so far by child processes that have been waited for.
func childrenCPUSeconds() -> Double { cpuSeconds(RUSAGE_CHILDREN.rawValue) }

/// CPU time of this process so far: the sandbox, and the bare loop while it runs.
func ownCPUSeconds() -> Double { cpuSeconds(RUSAGE_SELF.rawValue) }

func cpuSeconds(_ who: Int32) -> Double {
    var usage = rusage()
    getrusage(who, &usage)
    let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
    let system = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    return user + system
}

func report(_ name: String, rotor: [Double], baseline: [Double], baselineName: String) {
    let r = median(rotor)
    let b = median(baseline)
    print(
        String(
            format: "%@: rotor %.1f ms, %@ %.1f ms, ratio %.2fx (median of %d)", name, r * 1000, baselineName, b * 1000,
            r / b, rotor.count))
}

func seededDatabase(apps: Int) async throws -> (TemporaryDirectory, String) {
    let db = try await TestDatabase(clock: InstantClock(Date()))
    try await Seeder.addApps(apps, to: db.ledger)
    return (db.directory, db.path)
}

if let seedOnly, only != "audit" {
    let store = try SQLiteStore.open(path: seedOnly, create: true)
    let ledger = try await Ledger.initialize(
        store: store, key: .file(seedOnly + ".key"), clock: SystemClock(), actor: "bench"
    )
    .ledger
    try await Seeder.addApps(apps, to: ledger)
    print("seeded \(apps) apps into \(seedOnly)")
    exit(0)
}

print("Rotor benchmarks: \(apps) apps, \(runs) runs each, \(ProcessInfo.processInfo.activeProcessorCount) cores")

// 1. `rotor app list --json` as a whole process, against the sqlite3 CLI
//    printing the same rows as JSON.
if only == nil || only == "apps" {
    let (directory, path) = try await seededDatabase(apps: apps)
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
if only == nil || only == "apps" {
    var rotorTimes: [Double] = []
    var baseTimes: [Double] = []
    for _ in 0..<runs {
        let (directory, path) = try await seededDatabase(apps: apps)
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
if only == nil || only == "grants" {
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
        return Double(count) / seconds(elapsed)
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
        return Double(count) / seconds(elapsed)
    }

    _ = try await throughClient(200)  // warm up the connection pool
    _ = try await bare(200)
    var clientRates: [Double] = []
    var bareRates: [Double] = []
    // CPU time of this process (the sandbox included) for each grant.
    var clientCPU: [Double] = []
    var bareCPU: [Double] = []
    for _ in 0..<runs {
        var before = ownCPUSeconds()
        clientRates.append(try await throughClient(grants / runs))
        clientCPU.append((ownCPUSeconds() - before) / Double(grants / runs) * 1e6)
        before = ownCPUSeconds()
        bareRates.append(try await bare(grants / runs))
        bareCPU.append((ownCPUSeconds() - before) / Double(grants / runs) * 1e6)
    }
    let c = median(clientRates)
    let b = median(bareRates)
    print(
        String(
            format:
                "client-credentials grants on loopback: client %.0f/s, bare async-http-client %.0f/s, bare/client %.2fx (median of %d rounds of %d); CPU a grant, the sandbox included: client %.0f µs, bare %.0f µs, %.2fx",
            c, b, b / c, runs, grants / runs, median(clientCPU), median(bareCPU), median(clientCPU) / median(bareCPU)))
    try await http.shutdown().get()
    await sandbox.stop()
}

// 4. The audit log at scale: a chain of `auditEvents` events over 1,000 apps
//    and about twelve days, then (a) a filtered query as a whole process
//    against the sqlite3 CLI running the same query, (b) `rotor audit verify`
//    against sqlite3 reading every row, (c) appending an event with its chain
//    hash against a plain insert of the same row, one transaction each.
if only == nil || only == "audit" {
    let clock = InstantClock(Date().addingTimeInterval(-Double(auditEvents)))
    let db = try await TestDatabase(clock: clock)
    let seedStart = ContinuousClock.now
    var written = 0
    while written < auditEvents {
        let batch = min(50_000, auditEvents - written)
        try await db.ledger.commit { [written] tx in
            var head = try tx.store.auditHead()
            for index in written..<(written + batch) {
                clock.advance(by: 1)
                let event = AuditChain.next(
                    AuditDraft(
                        index % 10 == 0 ? .rotationFailed : .deliverySucceeded,
                        outcome: index % 10 == 0 ? .failure : .success,
                        app: String(format: "app-%04d", index % 1000), rotationID: Int64(index / 5),
                        detail: ["version": .int(Int64(index)), "target": "file /etc/app/vitalera.env"]),
                    after: head, time: clock.now, actor: "scheduler")
                let next = AuditChain.head(after: event, previous: head, keyring: tx.keyring)
                try tx.store.appendAudit(event, head: next)
                head = next
            }
        }
        written += batch
    }
    let seeded = ContinuousClock.now - seedStart
    print("audit: seeded \(auditEvents) chained events in \(seeded)")
    if let seedOnly {
        for suffix in ["", ".key"] {
            try? FileManager.default.removeItem(atPath: seedOnly + suffix)
            try FileManager.default.copyItem(atPath: (suffix.isEmpty ? db.path : db.keyFile), toPath: seedOnly + suffix)
        }
        print("copied to \(seedOnly)")
        exit(0)
    }
    let environment = ["ROTOR_KEY_FILE": db.keyFile]
    var rotorTimes: [Double] = []
    var baseTimes: [Double] = []
    let since = RFC3339.format(clock.now.addingTimeInterval(-7 * 86400))
    for _ in 0..<runs {
        rotorTimes.append(
            try timeProcess(
                [rotor, "audit", "--app", "app-0042", "--since", "7d", "--limit", "100", "--db", db.path],
                environment: environment))
        baseTimes.append(
            try timeProcess([
                sqlite3, db.path,
                "SELECT id, time, actor, action, outcome, app, rotation_id, detail, hash FROM audit_events WHERE app = 'app-0042' AND time >= '\(since)' ORDER BY time DESC, id DESC LIMIT 100",
            ]))
    }
    report(
        "audit --app X --since 7d --limit 100, \(auditEvents) events", rotor: rotorTimes, baseline: baseTimes,
        baselineName: "sqlite3")
    rotorTimes = []
    baseTimes = []
    for _ in 0..<max(1, runs / 2) {
        rotorTimes.append(try timeProcess([rotor, "audit", "verify", "--db", db.path], environment: environment))
        baseTimes.append(
            try timeProcess([
                sqlite3, db.path,
                "SELECT id, time, actor, action, outcome, app, rotation_id, detail, prev_hash, hash FROM audit_events ORDER BY id",
            ]))
    }
    report(
        "audit verify, \(auditEvents) events", rotor: rotorTimes, baseline: baseTimes,
        baselineName: "sqlite3 reading every row")

    let appends = 2000
    var chained: [Double] = []
    var plain: [Double] = []
    for round in 0..<runs {
        var start = ContinuousClock.now
        for index in 0..<appends {
            try await db.ledger.commit { tx in
                try tx.record(AuditDraft(.deliverySucceeded, app: "bench", detail: ["n": .int(Int64(index))]))
            }
        }
        chained.append(seconds(ContinuousClock.now - start))
        // The baseline is as durable as Rotor's commit: SQLite fsyncs the WAL itself.
        try db.store.withConnection { try $0.execute(sql: "PRAGMA synchronous = FULL") }
        defer { _ = try? db.store.withConnection { try $0.execute(sql: "PRAGMA synchronous = NORMAL") } }
        start = ContinuousClock.now
        for index in 0..<appends {
            try db.store.withConnection { conn in
                try conn.inTransaction(.immediate) {
                    try conn.execute(
                        sql:
                            "INSERT INTO audit_events (id, time, actor, action, outcome, app, rotation_id, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        arguments: [
                            -Int64(round * appends + index + 1), RFC3339.format(Date()), "bench", "delivery.succeeded",
                            "success", "bench", nil, "{\"n\":\(index)}", String(repeating: "0", count: 64),
                            String(repeating: "1", count: 64),
                        ])
                    return .commit
                }
            }
        }
        plain.append(seconds(ContinuousClock.now - start))
    }
    report(
        "append one event per transaction (\(appends) each)", rotor: chained, baseline: plain,
        baselineName: "plain insert")
}

/// CPU seconds (user + system) and peak RSS (KiB) of a running process, from /proc.
func processUsage(_ pid: Int32) -> (cpu: Double, peakKiB: Int) {
    let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
    let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
    let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
    let cpu = fields.count > 13 ? ((Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)) / ticks : 0
    let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    let peak =
        status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
        .flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true)[1]) } ?? 0
    return (cpu, peak)
}

/// Starts a process, lets it run for `seconds`, reads its usage, stops it.
func usageOver(_ launch: [String], seconds: Int, environment: [String: String] = [:]) throws -> (
    cpu: Double, peakKiB: Int
) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: launch[0])
    process.arguments = Array(launch.dropFirst())
    process.environment = ["PATH": "/usr/bin:/bin"].merging(environment) { $1 }
    process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
    process.standardError = FileHandle(forWritingAtPath: "/dev/null")
    try process.run()
    Thread.sleep(forTimeInterval: 2)  // start-up, not measured
    let start = processUsage(process.processIdentifier)
    Thread.sleep(forTimeInterval: TimeInterval(seconds))
    let end = processUsage(process.processIdentifier)
    process.terminate()
    process.waitUntilExit()
    return (end.cpu - start.cpu, end.peakKiB)
}

// 5. The daemon idle with `apps` apps registered (none due), over `idleSeconds`:
//    CPU time and peak RSS, against the peak RSS of `rotor app list` on the same
//    database (a process that reads every app once and exits).
if only == nil || only == "idle" {
    let db = try await TestDatabase(clock: InstantClock(Date()))
    try await Seeder.addApps(apps, to: db.ledger, schedule: .every(seconds: 30 * 86400))
    let usage = try usageOver([rotor, "run", "--db", db.path], seconds: idleSeconds)
    let list = try usageOver([rotor, "sandbox", "--port", "0"], seconds: 1)
    print(
        String(
            format:
                "idle daemon, %d apps, %d s: %.3f CPU s = %.2f%% of one core; peak RSS %.1f MiB (rotor sandbox at rest: %.1f MiB, %.2fx)",
            apps, idleSeconds, usage.cpu, usage.cpu / Double(idleSeconds) * 100, Double(usage.peakKiB) / 1024,
            Double(list.peakKiB) / 1024, Double(usage.peakKiB) / Double(max(list.peakKiB, 1))))
}

// 5b. Scale: `scaleApps` apps, each with a delivered file target, none due.
//     `rotor status --json` and `rotor run --once` (nothing to do) as whole
//     processes, against the sqlite3 CLI reading what each needs (status: every
//     app with its current pair, latest rotation and target deliveries; run
//     --once: every app with its current pair and active occurrences); and
//     the idle daemon's CPU time and peak RSS. Alternating rounds.
if only == nil || only == "scale" {
    let db = try await TestDatabase(clock: InstantClock(Date()))
    let seeding = ContinuousClock.now
    try await Seeder.addApps(
        scaleApps, to: db.ledger, schedule: .every(seconds: 30 * 86400), targetDirectory: db.directory.path)
    print(
        String(
            format: "scale: seeded %d apps with a target each in %.1f s", scaleApps,
            seconds(ContinuousClock.now - seeding)))
    let statusQuery = """
        SELECT a.name, a.schedule_kind, a.schedule_expr, c.created_at,
               (SELECT state FROM rotations r WHERE r.app_id = a.id ORDER BY id DESC LIMIT 1) AS last_state,
               (SELECT count(*) FROM targets t LEFT JOIN deliveries d ON d.target_id = t.id AND d.version = a.current_version
                 WHERE t.app_id = a.id AND t.enabled = 1 AND coalesce(d.state, '') != 'succeeded') AS pending
        FROM apps a JOIN credentials c ON c.app_id = a.id AND c.version = a.current_version ORDER BY a.name
        """
    let onceQuery = """
        SELECT a.id, a.schedule_kind, a.schedule_expr, c.created_at,
               (SELECT count(*) FROM occurrences o WHERE o.app_id = a.id AND o.state IN ('pending', 'started'))
        FROM apps a JOIN credentials c ON c.app_id = a.id AND c.version = a.current_version
        """
    var status: [Double] = []
    var statusJSON: [Double] = []
    var statusBase: [Double] = []
    var once: [Double] = []
    var onceBase: [Double] = []
    var statusCPU: [Double] = []
    var onceCPU: [Double] = []
    for _ in 0..<runs {
        var before = childrenCPUSeconds()
        status.append(try timeProcess([rotor, "status", "--db", db.path]))
        statusCPU.append(childrenCPUSeconds() - before)
        statusJSON.append(try timeProcess([rotor, "status", "--json", "--db", db.path]))
        statusBase.append(try timeProcess([sqlite3, "-json", db.path, statusQuery]))
        before = childrenCPUSeconds()
        once.append(try timeProcess([rotor, "run", "--once", "--db", db.path]))
        onceCPU.append(childrenCPUSeconds() - before)
        onceBase.append(try timeProcess([sqlite3, "-json", db.path, onceQuery]))
    }
    report("status, \(scaleApps) apps", rotor: status, baseline: statusBase, baselineName: "sqlite3 -json")
    print(
        String(
            format: "  status: %.0f ms wall, %.0f ms CPU (target: under 500 ms); status --json: %.0f ms wall",
            median(status) * 1000, median(statusCPU) * 1000, median(statusJSON) * 1000))
    report("run --once, nothing due, \(scaleApps) apps", rotor: once, baseline: onceBase, baselineName: "sqlite3 -json")
    print(
        String(
            format: "  run --once: %.0f ms wall, %.0f ms CPU (target: under 500 ms)", median(once) * 1000,
            median(onceCPU) * 1000))
    let usage = try usageOver([rotor, "run", "--db", db.path], seconds: idleSeconds)
    print(
        String(
            format:
                "idle daemon, %d apps, %d s: %.3f CPU s = %.2f%% of one core (target: under 1%%); peak RSS %.1f MiB (target: under 96 MiB)",
            scaleApps, idleSeconds, usage.cpu, usage.cpu / Double(idleSeconds) * 100, Double(usage.peakKiB) / 1024))
}

// 5c. Operator surfaces: a daemon with `--listen` over `apps` apps, each with
//     a delivered file target. Alternating rounds time `GET /api/status`
//     against `rotor status --json` as a process (the same document), and
//     `GET /metrics` and the status page `GET /` against `GET /api/status`
//     (what each adds to the status read); then the daemon's CPU per request.
if only == "surfaces" {
    let db = try await TestDatabase(clock: InstantClock(Date()))
    try await Seeder.addApps(
        apps, to: db.ledger, schedule: .every(seconds: 30 * 86400), targetDirectory: db.directory.path)
    let port = Int.random(in: 20000...32000)
    let daemon = Process()
    daemon.executableURL = URL(fileURLWithPath: rotor)
    daemon.arguments = ["run", "--db", db.path, "--listen", "127.0.0.1:\(port)"]
    daemon.environment = ["PATH": "/usr/bin:/bin"]
    daemon.standardError = FileHandle(forWritingAtPath: "/dev/null")
    try daemon.run()
    defer {
        daemon.terminate()
        daemon.waitUntilExit()
    }
    let http = HTTPClient.shared
    func get(_ path: String) async throws -> (seconds: Double, bytes: Int) {
        let start = ContinuousClock.now
        let response = try await http.execute(
            HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)"), timeout: .seconds(120))
        let body = try await response.body.collect(upTo: 1 << 28)
        guard response.status == .ok else { throw RotorError(.io, "\(path) answered \(response.status)") }
        return (seconds(ContinuousClock.now - start), body.readableBytes)
    }
    while (try? await get("/healthz")) == nil { try await Task.sleep(for: .milliseconds(100)) }
    // Its first pass done and idle: what it costs at rest, before any request.
    try await Task.sleep(for: .seconds(3))
    let restStart = processUsage(daemon.processIdentifier).cpu
    try await Task.sleep(for: .seconds(3))
    let rest = processUsage(daemon.processIdentifier).cpu - restStart
    var api: [Double] = []
    var cli: [Double] = []
    var metrics: [Double] = []
    var page: [Double] = []
    var sizes: [String: Int] = [:]
    let cpuBefore = processUsage(daemon.processIdentifier).cpu
    let loopStart = ContinuousClock.now
    for _ in 0..<runs {
        let served = try await get("/api/status")
        api.append(served.seconds)
        sizes["api"] = served.bytes
        cli.append(try timeProcess([rotor, "status", "--json", "--db", db.path]))
        let scraped = try await get("/metrics")
        metrics.append(scraped.seconds)
        sizes["metrics"] = scraped.bytes
        let rendered = try await get("/")
        page.append(rendered.seconds)
        sizes["page"] = rendered.bytes
    }
    let cpu = processUsage(daemon.processIdentifier).cpu - cpuBefore
    print(
        String(
            format: "  first requests: /api/status %.0f ms, /metrics %.0f ms, / %.0f ms (loop %.1f s wall)",
            api[0] * 1000, metrics[0] * 1000, page[0] * 1000, seconds(ContinuousClock.now - loopStart)))
    report("GET /api/status, \(apps) apps", rotor: api, baseline: cli, baselineName: "rotor status --json process")
    report("GET /metrics, \(apps) apps", rotor: metrics, baseline: api, baselineName: "GET /api/status")
    report("GET / (status page), \(apps) apps", rotor: page, baseline: api, baselineName: "GET /api/status")
    print(
        String(
            format:
                "  daemon CPU: %.1f ms per request (%d requests; %.2f CPU s over 3 s at rest before them); sizes: api %d KiB, metrics %d KiB, page %d KiB",
            cpu * 1000 / Double(3 * runs), 3 * runs, rest, (sizes["api"] ?? 0) / 1024, (sizes["metrics"] ?? 0) / 1024,
            (sizes["page"] ?? 0) / 1024))
}

// 6. `dueRotations` due rotations through `rotor run --once --concurrency 16`
//    against the in-process sandbox, against a bare async-http-client loop
//    making the same HTTP calls (grant, rotate, grant with the new pair,
//    validate) at the same concurrency, in the same run.
/// One round of the rotations benchmark, on fresh data.
struct RotationRound {
    var rotor: Double
    var rotorCPU: Double
    var idle: Double
    var bare: Double
    /// CPU time of the sandbox while rotor ran.
    var sandboxCPU: Double
    /// CPU time of the bare client process.
    var bareCPU: Double
    /// CPU time of the sandbox while the bare client process ran.
    var bareSandboxCPU: Double
    /// The bare loop in the benchmark's own process, beside the sandbox.
    var bareInProcess: Double
    var completed: Int
}

func measureRotations(_ dueRotations: Int) async throws -> RotationRound {
    let vendor = SandboxVendor()
    var applications: [SandboxApplication] = []
    for index in 0..<dueRotations {
        applications.append(await vendor.addApplication(name: "app\(index)", id: "app-\(index)"))
    }
    let sandbox = try await SandboxServer.start(vendor: vendor)
    let clock = InstantClock(Date().addingTimeInterval(-2 * 86400))
    let db = try await TestDatabase(clock: clock)
    try await Seeder.addApps(
        applications.map {
            (name: "app-\($0.id.dropFirst(4))", applicationID: $0.id, clientID: $0.clientID, secret: $0.clientSecret)
        },
        apiURL: sandbox.url, schedule: .every(seconds: 86400), to: db.ledger)
    // ROTOR_BENCH_PERF=FILE records the rotor process with `perf record -g` into FILE;
    // ROTOR_BENCH_WRAP="COMMAND ARGS" runs it under any command (`strace -f -c -o FILE`).
    let environment = ProcessInfo.processInfo.environment
    let perf =
        environment["ROTOR_BENCH_PERF"].map { ["/usr/bin/perf", "record", "-g", "-o", $0] }
        ?? environment["ROTOR_BENCH_WRAP"].map { $0.split(separator: " ").map(String.init) } ?? []
    let cpuBefore = childrenCPUSeconds()
    let ownBefore = ownCPUSeconds()
    let rotorTime = try timeProcess(perf + [rotor, "run", "--once", "--concurrency", "16", "--db", db.path])
    let rotorCPU = childrenCPUSeconds() - cpuBefore
    let sandboxCPU = ownCPUSeconds() - ownBefore
    let completed = try db.store.withConnection {
        try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM rotations WHERE state = 'completed'") ?? 0
    }
    // The same command again, with nothing due: start-up and planning alone.
    let idleTime = try timeProcess([rotor, "run", "--once", "--concurrency", "16", "--db", db.path])

    // The baseline twice: as a process of its own, like rotor (the ratio), and
    // in this process beside the sandbox, sharing its event loops.
    let current = await vendor.allApplications()
    let input = BareLoopInput(
        url: sandbox.url, applications: current.map { [$0.id, $0.clientID, $0.clientSecret] })
    let inputFile = db.directory.file("bare-loop.json")
    guard
        FileManager.default.createFile(
            atPath: inputFile, contents: try JSONEncoder().encode(input), attributes: [.posixPermissions: 0o600])
    else { throw RotorError(.io, "cannot write \(inputFile)") }
    let bareCPUBefore = childrenCPUSeconds()
    let sandboxBefore = ownCPUSeconds()
    // ROTOR_BENCH_BARE_WRAP runs the bare client process under a command, as ROTOR_BENCH_WRAP does rotor.
    let bareWrap = environment["ROTOR_BENCH_BARE_WRAP"].map { $0.split(separator: " ").map(String.init) } ?? []
    let bareTime = try timeProcess(bareWrap + [CommandLine.arguments[0], "--bare-loop", inputFile])
    let bareCPU = childrenCPUSeconds() - bareCPUBefore
    let bareSandboxCPU = ownCPUSeconds() - sandboxBefore

    let again = await vendor.allApplications()
    let inProcessStart = ContinuousClock.now
    try await bareLoop(
        BareLoopInput(url: sandbox.url, applications: again.map { [$0.id, $0.clientID, $0.clientSecret] }))
    let inProcess = seconds(ContinuousClock.now - inProcessStart)
    await sandbox.stop()
    return RotationRound(
        rotor: rotorTime, rotorCPU: rotorCPU, idle: idleTime, bare: bareTime, sandboxCPU: sandboxCPU,
        bareCPU: bareCPU, bareSandboxCPU: bareSandboxCPU, bareInProcess: inProcess, completed: completed)
}

if only == nil || only == "rotations" {
    // Each round on fresh data; the ratio is the median of each round's own ratio.
    var rounds: [RotationRound] = []
    for _ in 0..<runs { rounds.append(try await measureRotations(dueRotations)) }
    let ratios = rounds.map { $0.rotor / $0.bare }
    print(
        String(
            format:
                "%d due rotations at --concurrency 16: rotor run --once %.2f s (%d completed; %.2f CPU-s in rotor, %.2f in the sandbox; with nothing due %.2f s), bare client process %.2f s (%.2f CPU-s, %.2f in the sandbox), ratio %.2fx (median of %d; each: %@); bare loop inside the sandbox's process %.2f s, ratio %.2fx",
            dueRotations, median(rounds.map(\.rotor)), rounds.map(\.completed).min() ?? 0,
            median(rounds.map(\.rotorCPU)), median(rounds.map(\.sandboxCPU)), median(rounds.map(\.idle)),
            median(rounds.map(\.bare)), median(rounds.map(\.bareCPU)), median(rounds.map(\.bareSandboxCPU)),
            median(ratios),
            rounds.count, ratios.map { String(format: "%.2f", $0) }.joined(separator: " "),
            median(rounds.map(\.bareInProcess)), median(rounds.map { $0.rotor / $0.bareInProcess })))
}

// 7. The engine alone: `dueRotations` due rotations through the scheduler in
//    this process, at --concurrency 16, against a vendor that answers at
//    once without a network. What is left is Rotor's own work per rotation
//    (planning, leases, the database, sealing, the audit chain); its baseline
//    is the same vendor calls made directly by 16 tasks.
/// Answers every call at once, as the sandbox would answer it, without HTTP.
struct InstantVendor: VendorAPI {
    func clientCredentialsGrant(apiURL: String, clientID: String, secret: Secret) async throws(VendorError)
        -> AccessToken
    {
        AccessToken(token: Secret("token-\(clientID)"), expiresAt: Date().addingTimeInterval(3600))
    }

    func passwordGrant(apiURL: String, username: String, password: Secret) async throws(VendorError) -> UserTokens {
        throw VendorError(.badRequest, message: "not used")
    }

    func refresh(apiURL: String, accessToken: Secret, refreshToken: Secret) async throws(VendorError) -> UserTokens {
        throw VendorError(.badRequest, message: "not used")
    }

    func validate(apiURL: String, token: Secret) async throws(VendorError) -> Bool { true }

    func rotateCredentials(apiURL: String, token: Secret, applicationID: String) async throws(VendorError)
        -> RotatedPair
    {
        RotatedPair(
            applicationID: applicationID, name: nil, organization: nil, clientID: "client-\(UUID().uuidString)",
            clientSecret: Secret("secret-\(UUID().uuidString)"))
    }
}

func measureEngine(_ count: Int) async throws -> (engine: Double, engineCPU: Double, bare: Double) {
    let clock = InstantClock(Date().addingTimeInterval(-2 * 86400))
    let db = try await TestDatabase(clock: clock)
    try await Seeder.addApps(
        (0..<count).map {
            (name: "app-\($0)", applicationID: "app-\($0)", clientID: "client-\($0)", secret: "s-\($0)")
        },
        apiURL: "http://127.0.0.1:9", schedule: .every(seconds: 86400), to: db.ledger)
    clock.advance(by: 2 * 86400)
    let vendor = InstantVendor()
    let delivery = DeliveryService(ledger: db.ledger)
    let engine = RotationEngine(
        ledger: db.ledger, api: vendor, databasePath: db.path, deliverer: delivery, alerts: delivery.alerts)
    let scheduler = Scheduler(engine: engine, delivery: delivery, concurrency: 16)
    let cpuBefore = ownCPUSeconds()
    let (batchesBefore, syncsBefore) = (db.store.groupCommitCount, db.store.syncCount)
    let start = ContinuousClock.now
    let outcomes = try await scheduler.runOnce()
    let elapsed = ContinuousClock.now - start
    let engineCPU = ownCPUSeconds() - cpuBefore
    print(
        "engine: \(db.store.groupCommitCount - batchesBefore) shared commits, \(db.store.syncCount - syncsBefore) fsyncs"
    )
    guard outcomes.count == count, outcomes.allSatisfy({ $0.state == .completed }) else {
        throw RotorError(
            .io, "the engine benchmark completed \(outcomes.filter { $0.state == .completed }.count) of \(count)")
    }
    let bareStart = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for worker in 0..<16 {
            group.addTask {
                for index in stride(from: worker, to: count, by: 16) {
                    let token = try await vendor.clientCredentialsGrant(
                        apiURL: "", clientID: "client-\(index)", secret: Secret("s"))
                    let pair = try await vendor.rotateCredentials(apiURL: "", token: token.token, applicationID: "a")
                    let check = try await vendor.clientCredentialsGrant(
                        apiURL: "", clientID: pair.clientID, secret: pair.clientSecret)
                    _ = try await vendor.validate(apiURL: "", token: check.token)
                }
            }
        }
        try await group.waitForAll()
    }
    let bare = ContinuousClock.now - bareStart
    return (seconds(elapsed), engineCPU, seconds(bare))
}

if only == "engine" {
    var rounds: [(engine: Double, engineCPU: Double, bare: Double)] = []
    for _ in 0..<runs { rounds.append(try await measureEngine(dueRotations)) }
    let perRotation = median(rounds.map(\.engineCPU)) / Double(dueRotations) * 1e6
    print(
        String(
            format:
                "engine alone, %d rotations at concurrency 16, no network: %.3f s, %.3f CPU-s (%.0f µs of CPU a rotation); the vendor calls alone %.3f s",
            dueRotations, median(rounds.map(\.engine)), median(rounds.map(\.engineCPU)), perRotation,
            median(rounds.map(\.bare))))
}

/// The bare loop's HTTP calls: the same requests as the vendor client, no retries, no classification.
struct BareClient: Sendable {
    let http: HTTPClient
    let url: String

    func call(_ path: String, _ body: [String: String]?, bearer: String?) async throws -> [String: String] {
        var request = HTTPClientRequest(url: url + path)
        request.method = body == nil ? .GET : .POST
        if let bearer { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
        }
        let response = try await http.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        guard (200..<300).contains(Int(response.status.code)) else {
            throw RotorError(.io, "HTTP \(response.status.code)")
        }
        let object = (try? JSONSerialization.jsonObject(with: Data(buffer: bytes))) as? [String: Any] ?? [:]
        return object.compactMapValues { $0 as? String }
    }
}

// 9. PostgreSQL (postgres.md): `dueRotations` due rotations through `rotor
//    run --once --concurrency 16` on one PostgreSQL database against the same
//    on a SQLite file, and three such processes at once on PostgreSQL against
//    one, in alternating rounds on fresh data; then an idle daemon with
//    `apps` apps on PostgreSQL: its CPU and the server's.
/// What the server counted in a census round: calls and the statement's start.
final class CensusBox: @unchecked Sendable {
    var rows: [(calls: Int, query: String)] = []
}

/// One PostgreSQL round's figures: wall seconds, CPU seconds of the rotor processes, rotations completed.
struct BackendRound {
    var wall: Double
    var cpu: Double
    var completed: Int
}

/// The CPU seconds of a PostgreSQL server: the postmaster and every process it started.
func serverCPUSeconds(_ postmaster: Int32) -> Double {
    let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
    var total = 0.0
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
        guard let pid = Int32(entry),
            let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let fields = stat.split(separator: ")").last?.split(separator: " "), fields.count > 13
        else { continue }
        guard pid == postmaster || Int32(fields[1]) == postmaster else { continue }
        // utime and stime; for the postmaster also cutime and cstime: the backends that have ended.
        let own = (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)
        let ended = pid == postmaster ? (Double(fields[13]) ?? 0) + (Double(fields[14]) ?? 0) : 0
        total += (own + ended) / ticks
    }
    return total
}

/// `instances` × `rotor run --once --concurrency 16` at once on a fresh
/// database of `backend` with `count` due apps at a fresh sandbox.
func measureBackend(
    _ backend: CLIBackend, on server: PostgresServer, instances: Int, count: Int, binary: String = rotor,
    around: (before: () async throws -> Void, after: () async throws -> Void) = ({}, {})
) async throws -> BackendRound {
    let vendor = SandboxVendor()
    var applications: [SandboxApplication] = []
    for index in 0..<count {
        applications.append(await vendor.addApplication(name: "app\(index)", id: "app-\(index)"))
    }
    let sandbox = try await SandboxServer.start(vendor: vendor)
    let clock = InstantClock(Date().addingTimeInterval(-2 * 86400))
    let ledger: Ledger
    var environment: [String: String] = [:]
    var keep: [any Sendable] = []
    switch backend {
    case .sqlite:
        let db = try await TestDatabase(clock: clock)
        ledger = db.ledger
        environment = ["ROTOR_DB": db.path]
        keep.append(db)
    case .postgres:
        let database = try await SharedPostgres.Database.create(
            on: server, name: "r\(UUID().uuidString.prefix(8).lowercased())")
        let key = TemporaryDirectory("rotor-bench-key")
        ledger = try await Ledger.initialize(
            store: try await PostgresStore.open(try PostgresLocation(url: database.url, environment: [:])),
            key: .file(key.file("rotor.key")), clock: clock, actor: "bench"
        ).ledger
        environment = [
            "ROTOR_DB": database.urlWithoutPassword, "PGPASSWORD": PostgresServer.password,
            "ROTOR_KEY_FILE": key.file("rotor.key"), "ROTOR_SPILL_DIR": key.path,
        ]
        keep += [database, key]
    }
    try await Seeder.addApps(
        applications.map {
            (name: "app-\($0.id.dropFirst(4))", applicationID: $0.id, clientID: $0.clientID, secret: $0.clientSecret)
        },
        apiURL: sandbox.url, schedule: .every(seconds: 86400), to: ledger)
    try await around.before()
    let cpuBefore = childrenCPUSeconds()
    let start = ContinuousClock.now
    var processes: [Process] = []
    // ROTOR_BENCH_PG_WRAP="COMMAND ARGS" runs each PostgreSQL instance under a command (`perf record -g -o FILE`).
    let wrap =
        backend == .postgres
        ? ProcessInfo.processInfo.environment["ROTOR_BENCH_PG_WRAP"].map { $0.split(separator: " ").map(String.init) }
            ?? [] : []
    for index in 0..<instances {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: wrap.first ?? binary)
        process.arguments =
            Array(wrap.dropFirst()) + (wrap.isEmpty ? [] : [binary])
            + ["run", "--once", "--concurrency", "16", "--node", "bench-\(index)"]
        process.environment = ["PATH": "/usr/bin:/bin"].merging(environment) { $1 }
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        processes.append(process)
    }
    for process in processes { process.waitUntilExit() }
    let wall = seconds(ContinuousClock.now - start)
    let cpu = childrenCPUSeconds() - cpuBefore
    try await around.after()
    let completed = try await ledger.read { reader in
        try reader.rotations(appID: nil, limit: 4 * count).filter { $0.state == .completed }.count
    }
    try await ledger.store.close()
    await sandbox.stop()
    _ = keep
    return BackendRound(wall: wall, cpu: cpu, completed: completed)
}

if only == "postgres" {
    // The benchmark's own server: commits fsynced, as SQLite's are.
    let benchServer = try await PostgresServer.start(fsync: true)
    var sqlite: [BackendRound] = []
    var one: [BackendRound] = []
    var three: [BackendRound] = []
    // ROTOR_BENCH_BASELINE=PATH: another build of rotor (an earlier commit), one instance on PostgreSQL
    // in the same alternating rounds, to compare a change with.
    let baselineBinary = ProcessInfo.processInfo.environment["ROTOR_BENCH_BASELINE"]
    var baseline: [BackendRound] = []
    for _ in 0..<(ProcessInfo.processInfo.environment["ROTOR_BENCH_PG_WRAP"] == nil ? runs : 0) {
        sqlite.append(try await measureBackend(.sqlite, on: benchServer, instances: 1, count: dueRotations))
        one.append(try await measureBackend(.postgres, on: benchServer, instances: 1, count: dueRotations))
        three.append(try await measureBackend(.postgres, on: benchServer, instances: 3, count: dueRotations))
        if let baselineBinary {
            baseline.append(
                try await measureBackend(
                    .postgres, on: benchServer, instances: 1, count: dueRotations, binary: baselineBinary))
        }
    }
    func line(_ name: String, _ rounds: [BackendRound]) -> String {
        String(
            format: "%@ %.2f s, %.2f CPU-s in rotor (%d completed at least)", name, median(rounds.map(\.wall)),
            median(rounds.map(\.cpu)), rounds.map(\.completed).min() ?? 0)
    }
    if let wrap = ProcessInfo.processInfo.environment["ROTOR_BENCH_PG_WRAP"] {
        let round = try await measureBackend(.postgres, on: benchServer, instances: 1, count: dueRotations)
        print("one PostgreSQL round under \(wrap): \(round.wall) s, \(round.cpu) CPU-s")
        try await benchServer.stop()
        try? FileManager.default.removeItem(atPath: benchServer.directory.path)
        exit(0)
    }
    print("\(dueRotations) due rotations at --concurrency 16, median of \(runs) alternating rounds:")
    print("  " + line("SQLite, one rotor run --once:", sqlite))
    print("  " + line("PostgreSQL, one:", one))
    print("  " + line("PostgreSQL, three at once:", three))
    if let baselineBinary {
        print("  " + line("PostgreSQL, one, \(baselineBinary):", baseline))
        print(
            String(
                format: "  this build/that one on PostgreSQL: %.2fx wall, %.2fx CPU",
                median(zip(one, baseline).map { $0.wall / $1.wall }),
                median(zip(one, baseline).map { $0.cpu / $1.cpu })))
    }
    print(
        String(
            format:
                "  PostgreSQL/SQLite: %.2fx wall (target: at most 1.5x), %.2fx CPU; three/one on PostgreSQL: %.2fx wall (target: not above 1), %.2fx CPU",
            median(zip(one, sqlite).map { $0.wall / $1.wall }), median(zip(one, sqlite).map { $0.cpu / $1.cpu }),
            median(zip(three, one).map { $0.wall / $1.wall }), median(zip(three, one).map { $0.cpu / $1.cpu })))

    // The statements of one round on PostgreSQL, counted by the server (pg_stat_statements).
    try await benchServer.psql("postgres", "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
    try await benchServer.restart()
    try await benchServer.psql("postgres", "CREATE EXTENSION pg_stat_statements")
    let census = CensusBox()
    let counted = try await measureBackend(
        .postgres, on: benchServer, instances: 1, count: dueRotations,
        around: (
            before: { try await benchServer.psql("postgres", "SELECT pg_stat_statements_reset()") },
            after: {
                census.rows = try await benchServer.psql(
                    "postgres",
                    """
                    SELECT calls || '|' || regexp_replace(left(query, 110), '\\s+', ' ', 'g') FROM pg_stat_statements
                    WHERE query NOT LIKE '%pg_stat_statements%' ORDER BY calls DESC
                    """
                ).split(separator: "\n").compactMap { line in
                    line.split(separator: "|", maxSplits: 1).count == 2
                        ? (Int(line.split(separator: "|")[0]) ?? 0, String(line.split(separator: "|", maxSplits: 1)[1]))
                        : nil
                }
            }
        ))
    let statements = census.rows.map(\.calls).reduce(0, +)
    print(
        String(
            format:
                "statements of one PostgreSQL round: %d for %d completed rotations = %.1f a rotation; the most called:",
            statements, counted.completed, Double(statements) / Double(max(counted.completed, 1))))
    for (calls, query) in census.rows.prefix(40) {
        print(String(format: "  %6.2f  %@", Double(calls) / Double(max(counted.completed, 1)), query))
    }

    // One statement's round trip: the store's (a read transaction of 2,000
    // statements, from its own thread through postgres-nio) against libpq's
    // (pgbench, the same statement over TCP, extended protocol), alternating.
    let pingDatabase = try await SharedPostgres.Database.create(on: benchServer, name: "ping")
    let pingKey = TemporaryDirectory("rotor-bench-key")
    let pingStore = try await Ledger.initialize(
        store: try await PostgresStore.open(try PostgresLocation(url: pingDatabase.url, environment: [:])),
        key: .file(pingKey.file("rotor.key")), clock: SystemClock(), actor: "bench"
    ).ledger.store
    try pingKey.write("ping.sql", "SELECT * FROM apps WHERE id = 1;\n", mode: 0o644)
    var storeRoundTrips: [Double] = []
    var libpqRoundTrips: [Double] = []
    for _ in 0..<max(runs, 1) {
        let start = ContinuousClock.now
        // One statement each, on an empty table, as pgbench's.
        try await pingStore.read { reader in for _ in 0..<2000 { _ = try reader.app(id: 1) } }
        storeRoundTrips.append(seconds(ContinuousClock.now - start) / 2000 * 1e6)
        let pgbench = try timeProcess(
            [
                "\(benchServer.binaries)/pgbench", "-n", "-M", "extended", "-c", "1", "-t", "2000", "-f",
                pingKey.file("ping.sql"), "-h", "127.0.0.1", "-p", "\(benchServer.port)", "-U", PostgresServer.user,
                pingDatabase.name,
            ], environment: ["PGPASSWORD": PostgresServer.password])
        libpqRoundTrips.append(pgbench / 2000 * 1e6)
    }
    try await pingStore.close()
    print(
        String(
            format:
                "one statement's round trip: the store %.0f µs, libpq (pgbench, process start included) %.0f µs: %.2fx",
            median(storeRoundTrips), median(libpqRoundTrips), median(storeRoundTrips) / median(libpqRoundTrips)))

    // Idle: `apps` apps, none due, one daemon for `idleSeconds`.
    let database = try await SharedPostgres.Database.create(on: benchServer, name: "idle")
    let key = TemporaryDirectory("rotor-bench-key")
    let ledger = try await Ledger.initialize(
        store: try await PostgresStore.open(try PostgresLocation(url: database.url, environment: [:])),
        key: .file(key.file("rotor.key")), clock: SystemClock(), actor: "bench"
    ).ledger
    try await Seeder.addApps(apps, to: ledger)
    try await ledger.store.close()
    let postmaster = database.server.pid ?? 0
    let serverBefore = serverCPUSeconds(postmaster)
    let usage = try usageOver(
        [rotor, "run"], seconds: idleSeconds,
        environment: [
            "ROTOR_DB": database.urlWithoutPassword, "PGPASSWORD": PostgresServer.password,
            "ROTOR_KEY_FILE": key.file("rotor.key"), "ROTOR_SPILL_DIR": key.path,
        ])
    let server = serverCPUSeconds(postmaster) - serverBefore
    print(
        String(
            format:
                "idle daemon on PostgreSQL, %d apps, %d s: %.3f CPU s = %.2f%% of one core (target: under 1%%), the server %.3f CPU s = %.2f%%; peak RSS %.1f MiB",
            apps, idleSeconds, usage.cpu, usage.cpu / Double(idleSeconds) * 100, server,
            server / Double(idleSeconds + 2) * 100, Double(usage.peakKiB) / 1024))
    try await benchServer.stop()
    try? FileManager.default.removeItem(atPath: benchServer.directory.path)
}
