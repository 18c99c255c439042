// swift-tools-version:6.1
import PackageDescription

/// One set of settings for every target: Swift 6 mode, complete concurrency
/// checking, `any` spelled out for existentials.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableExperimentalFeature("StrictConcurrency=complete"),
]

let package = Package(
    name: "rotor",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "rotor", targets: ["rotor"]),
        .library(name: "RotorCore", targets: ["RotorCore"]),
        .library(name: "RotorSQLite", targets: ["RotorSQLite"]),
        .library(name: "RotorPostgres", targets: ["RotorPostgres"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // C shims for the few system calls Swift cannot reach.
        .target(name: "CRotorShims"),
        // The product: rotation engine, crypto, audit chain, registry. Knows no SQL.
        .target(
            name: "RotorCore",
            dependencies: [
                "CRotorShims",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            swiftSettings: swiftSettings
        ),
        // The store's queries, written once for every SQL backend.
        .target(
            name: "RotorSQL",
            dependencies: ["RotorCore"],
            swiftSettings: swiftSettings
        ),
        // The SQLite store behind RotorCore's `Store` interface.
        .target(
            name: "RotorSQLite",
            dependencies: [
                "RotorCore", "RotorSQL",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings,
            plugins: ["EmbedMigrations"]
        ),
        // The PostgreSQL store behind RotorCore's `Store` interface (several instances, one database).
        .target(
            name: "RotorPostgres",
            dependencies: [
                "RotorCore", "RotorSQL",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings,
            plugins: ["EmbedMigrations"]
        ),
        // The vendor client over HTTP, behind RotorCore's `VendorAPI`.
        .target(
            name: "VitaleraClient",
            dependencies: [
                "RotorCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // A faithful local imitation of the vendor: `rotor sandbox`, `rotor demo`, the tests.
        .target(
            name: "VitaleraSandbox",
            dependencies: [
                "RotorCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The command-line shell: parses arguments, calls the libraries.
        .executableTarget(
            name: "rotor",
            dependencies: [
                "RotorCore",
                "RotorSQL",
                "RotorSQLite",
                "RotorPostgres",
                "VitaleraClient",
                "VitaleraSandbox",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Test support: temporary databases, the built binary, fixtures.
        .target(
            name: "RotorTesting",
            dependencies: [
                "RotorCore", "RotorSQLite", "RotorPostgres", "VitaleraClient", "VitaleraSandbox",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        // Build tool: turns migrations/*.sql into Swift source.
        .executableTarget(
            name: "MigrationEmbedder",
            swiftSettings: swiftSettings
        ),
        .plugin(
            name: "EmbedMigrations",
            capability: .buildTool(),
            dependencies: ["MigrationEmbedder"]
        ),
        .executableTarget(
            name: "RotorBenchmarks",
            dependencies: [
                "RotorCore", "RotorSQLite", "RotorPostgres", "RotorTesting", "VitaleraClient", "VitaleraSandbox",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/RotorBenchmarks",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RotorTests",
            dependencies: [
                "RotorCore", "RotorSQLite", "RotorPostgres", "RotorSQL", "RotorTesting", "VitaleraClient",
                "VitaleraSandbox",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
