// swift-tools-version: 6.1
// smaller: what happens to a small, small-data language model when it is made smaller.
// Targets and their allowed imports are in docs/architecture.md; keep the two in step.
import PackageDescription

/// Numeric targets are compiled with -O even in debug builds, so that `swift test` (a debug build) runs the
/// engine's numeric tests at useful speed. Release builds already use -O. -Ounchecked is not used: it has
/// not been measured to help, and it would turn array-bounds bugs into silent memory corruption.
let numericSettings: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "smaller",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "smaller", targets: ["smaller"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.14.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
    ],
    targets: [
        // Native libraries (Debian packages: libzmq3-dev, libdnnl-dev, libsentencepiece-dev).
        .systemLibrary(name: "CZeroMQ", providers: [.apt(["libzmq3-dev"])]),
        .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"])]),
        .target(
            name: "CSentencePiece",
            cxxSettings: [.unsafeFlags(["-O2"])],
            linkerSettings: [.linkedLibrary("sentencepiece"), .linkedLibrary("sentencepiece_train")]
        ),

        // Our own AVX2 GEMM in C (-O3 in debug builds too: the numeric tests run through it).
        .target(name: "CGemm", cSettings: [.unsafeFlags(["-O3"])]),
        // Elementwise kernels with AVX-512 / AVX2 paths chosen at run time (GELU), -O3 likewise.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"])]),

        // The engine.
        .target(name: "TensorCore", dependencies: ["CDNNL", "CGemm", "CKernels"], swiftSettings: numericSettings),
        .target(name: "TextData", dependencies: ["CSentencePiece", .product(name: "Crypto", package: "swift-crypto")],
                swiftSettings: numericSettings),
        .target(name: "Transformer", dependencies: ["TensorCore"], swiftSettings: numericSettings),
        .target(name: "Training", dependencies: ["Transformer", "TensorCore"], swiftSettings: numericSettings),
        .target(name: "Compression", dependencies: ["Training", "Transformer", "TensorCore", "TextData"], swiftSettings: numericSettings),
        .target(name: "Evaluation", dependencies: ["Transformer", "TextData"], swiftSettings: numericSettings),
        // The recipes (pretrain, fine-tune, prune, quantize, distill) that the worker and the CLI both call.
        .target(name: "Pipelines", dependencies: [
            "Experiment", "Training", "Compression", "Evaluation", "TextData", "Transformer", "TensorCore",
        ], swiftSettings: numericSettings),

        // Orchestration.
        .target(name: "Experiment", dependencies: ["Yams", .product(name: "Crypto", package: "swift-crypto")],
                plugins: ["GitCommitPlugin"]),
        // Writes the checkout's `git describe` into Experiment's BuildInfo before each build.
        .plugin(name: "GitCommitPlugin", capability: .buildTool(), path: "Sources/GitCommitPlugin"),
        .target(name: "Wire", dependencies: ["CZeroMQ", "Experiment"]),
        .target(name: "Coordinator", dependencies: [
            "Wire", "Experiment", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift"),
        ]),
        .target(name: "Worker", dependencies: ["Wire", "Experiment", "Pipelines"]),
        .target(name: "Report", dependencies: ["Experiment"]),
        // The coordinator's HTTP side: JSON API, Prometheus /metrics and the live page (issue #15).
        .target(name: "Dashboard", dependencies: [
            "Coordinator", "Experiment", "Report",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),

        // The command line.
        .executableTarget(name: "smaller", dependencies: [
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            "TensorCore", "TextData", "Transformer", "Training", "Compression",
            "Evaluation", "Experiment", "Pipelines", "Wire", "Coordinator", "Worker", "Report", "Dashboard",
        ]),
        // The wire codec's fuzz entry point: Tests/Fuzz/fuzz.sh builds it with -sanitize=fuzzer and runs it in
        // `make test`; a plain build writes and replays the seed corpus.
        .executableTarget(name: "WireFuzz", dependencies: ["Wire", "Experiment", "FuzzSupport"], path: "Tests/Fuzz",
                          exclude: ["corpus", "fuzz.sh", "wire.dict"]),
        // The pytorch_model.bin readers' fuzz entry point (zip archive, restricted pickle), run by the same script.
        .executableTarget(name: "CheckpointFuzz", dependencies: ["TensorCore", "FuzzSupport"], path: "Tests/CheckpointFuzz", exclude: ["corpus"]),
        // The job file and GEMM choice file readers' fuzz entry point, run by the same script.
        .executableTarget(name: "JobFuzz", dependencies: ["Experiment", "TensorCore", "FuzzSupport"], path: "Tests/JobFuzz",
                          exclude: ["corpus", "job.dict"]),
        // The fuzz entry points' shared driver hand-over and replay.
        .target(name: "FuzzSupport", path: "Tests/FuzzSupport"),

        // Tests mirror the targets; TestSupport holds tolerances, gradient checks and fixture loading.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        // Counts heap allocations in tests by interposing malloc; never linked into the `smaller` executable.
        .target(name: "CAllocationCounter"),
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore", "CDNNL", "CGemm", "CKernels", "TestSupport"], swiftSettings: numericSettings),
        .testTarget(name: "TransformerTests", dependencies: ["Transformer", "TensorCore", "TestSupport"], swiftSettings: numericSettings),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Transformer", "TensorCore", "Compression", "TestSupport", "CAllocationCounter", "CDNNL"], swiftSettings: numericSettings),
        .testTarget(name: "CompressionTests", dependencies: ["Compression", "Training", "Transformer", "TensorCore", "TextData", "TestSupport"], swiftSettings: numericSettings),
        .testTarget(name: "TextDataTests", dependencies: ["TextData", "TestSupport"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "TextData", "Transformer", "TestSupport"]),
        .testTarget(name: "WireTests", dependencies: ["Wire", "Experiment", "CZeroMQ", "TestSupport"]),
        .testTarget(name: "ExperimentTests", dependencies: ["Experiment", "TestSupport"]),
        .testTarget(name: "CoordinatorTests", dependencies: ["Coordinator", "Wire", "Experiment", "TestSupport"]),
        .testTarget(name: "PipelinesTests", dependencies: [
            "Pipelines", "Experiment", "Evaluation", "Compression", "TextData", "Transformer", "TestSupport",
        ], swiftSettings: numericSettings),
        .testTarget(name: "WorkerTests", dependencies: [
            "Worker", "Wire", "Experiment", "Pipelines", "Evaluation", "TextData", "Transformer", "TestSupport",
        ]),
        .testTarget(name: "ReportTests", dependencies: ["Report", "Experiment"]),
        // Real processes over loopback; depends on the executable so `swift test` builds it first.
        .testTarget(name: "IntegrationTests", dependencies: [
            "smaller", "Experiment", "Wire", "TestSupport", .product(name: "GRDB", package: "GRDB.swift"),
        ]),
    ],
    cxxLanguageStandard: .cxx17
)
