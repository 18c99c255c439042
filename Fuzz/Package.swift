// swift-tools-version:6.1
import PackageDescription

// libFuzzer targets for Rotor's parsers of untrusted text. Built apart from
// the main package, because every module is compiled with coverage
// instrumentation and AddressSanitizer; `scripts/fuzz` builds and runs them,
// linking libFuzzer's driver (`libclang_rt.fuzzer_no_main`).
let package = Package(
    name: "rotor-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [.package(name: "rotor", path: "..")],
    targets: [
        .target(name: "CFuzzDriver"),
        .executableTarget(
            name: "RotorFuzz",
            dependencies: ["CFuzzDriver", .product(name: "RotorCore", package: "rotor")],
            swiftSettings: [
                .swiftLanguageMode(.v6),
                .enableUpcomingFeature("ExistentialAny"),
                .enableExperimentalFeature("StrictConcurrency=complete"),
            ]
        ),
    ]
)
