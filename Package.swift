// swift-tools-version:6.0
import PackageDescription

/// Strict settings for every target of ours: Swift 6 language mode (set by the tools
/// version), explicit `any`, and no implicit imports leaking between modules.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "forecastd",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "forecastd", targets: ["Daemon"]),
        .library(name: "Forecast", targets: ["Forecast"]),
        .library(name: "Ingest", targets: ["Ingest"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // OpenBLAS (cblas_sgemm and friends), nested inside the engine that uses it.
        .systemLibrary(
            name: "CBLAS",
            path: "Sources/Forecast/CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        // Element-wise LSTM kernels in C, cloned per CPU level (AVX-512/AVX2/baseline) and
        // dispatched at load time, so the binary still runs on any x86-64 server.
        .target(
            name: "CKernels",
            path: "Sources/Forecast/CKernels",
            cSettings: [.unsafeFlags(["-O3", "-mprefer-vector-width=512", "-Wno-psabi"])]
        ),
        // The stacked-LSTM engine. Knows nothing of databases.
        .target(
            name: "Forecast",
            dependencies: ["CBLAS", "CKernels"],
            exclude: ["CBLAS", "CKernels"],
            swiftSettings: strict
        ),
        // libpq, nested inside the target that uses it.
        .systemLibrary(
            name: "CLibPQ",
            path: "Sources/Ingest/CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // PostgreSQL access over libpq and series preparation. Knows nothing of models.
        .target(
            name: "Ingest",
            dependencies: ["CLibPQ"],
            exclude: ["CLibPQ"],
            swiftSettings: strict
        ),
        // The one executable, `forecastd`: service, scheduling, write-back, CLI.
        .executableTarget(
            name: "Daemon",
            dependencies: [
                "Forecast",
                "Ingest",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict,
            plugins: ["EmbedSchemas"]
        ),
        // Build-time only: turns schemas/*.sql into Swift so the binary carries its migrations.
        .executableTarget(
            name: "SchemaEmbedder",
            path: "Plugins/SchemaEmbedder"
        ),
        .plugin(
            name: "EmbedSchemas",
            capability: .buildTool(),
            dependencies: ["SchemaEmbedder"],
            path: "Plugins/EmbedSchemas"
        ),
        .testTarget(name: "ForecastTests", dependencies: ["Forecast"], exclude: ["Fixtures"], swiftSettings: strict),
        .testTarget(name: "IngestTests", dependencies: ["Ingest"], swiftSettings: strict),
        .testTarget(name: "DaemonTests", dependencies: ["Daemon", "Ingest"], swiftSettings: strict),
    ]
)
