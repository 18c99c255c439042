// Rotor benchmarks. Each figure is compared with a baseline measured in the
// same run on the same data, and reported as a ratio.
//
//   swift build -c release && .build/release/RotorBenchmarks [--apps N] [--runs N]
//
// Benchmarks measure; they assert nothing.

import Foundation
import RotorCore
import RotorSQLite
import RotorTesting

var apps = 10_000
var runs = 5
var seedOnly: String?
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    switch flag {
    case "--apps": apps = Int(arguments.popFirst() ?? "") ?? apps
    case "--runs": runs = Int(arguments.popFirst() ?? "") ?? runs
    // Writes a seeded database (and its key) to PATH and exits, for profiling.
    case "--seed-only": seedOnly = arguments.popFirst()
    default:
        print("usage: RotorBenchmarks [--apps N] [--runs N] [--seed-only PATH]")
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
    let db = try TestDatabase(clock: ManualClock(Date()))
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
