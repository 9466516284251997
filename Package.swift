// swift-tools-version:6.0
// BilevelKit: a tape-based autodiff engine with forward-over-reverse Hessian-vector products,
// layers on top of it, and a bilevel module (unrolled and implicit hypergradients).
// Data flows one way: TapeKernels (C) ← Tape ← Layers ← Bilevel ← Demos / Benchmarks.
// No external packages: everything here is our own code.
import PackageDescription

let package = Package(
    name: "BilevelKit",
    products: [
        .library(name: "Tape", targets: ["Tape"]),
        .library(name: "Layers", targets: ["Layers"]),
        .library(name: "Bilevel", targets: ["Bilevel"]),
        .executable(name: "Demos", targets: ["Demos"]),
        .executable(name: "Benchmarks", targets: ["Benchmarks"]),
    ],
    targets: [
        // Hot loops in C (matrix multiply, vectorized exp/tanh, elementwise loops, the worker pool), so they
        // can use AVX2/FMA through per-function target attributes chosen at run time, without unsafe
        // flags that would break dependent packages.
        .target(name: "TapeKernels", path: "Sources/TapeKernels",
                linkerSettings: [.linkedLibrary("m", .when(platforms: [.linux])),
                                 .linkedLibrary("pthread", .when(platforms: [.linux]))]),
        .target(name: "Tape", dependencies: ["TapeKernels"]),
        .target(name: "Layers", dependencies: ["Tape"]),
        .target(name: "Bilevel", dependencies: ["Layers", "Tape"]),
        .executableTarget(name: "Demos", dependencies: ["Bilevel", "Layers", "Tape"], path: "Sources/Demos"),
        // Counts heap allocations in the benchmark process only (interposes malloc in the executable).
        .target(name: "AllocationCounter", path: "Benchmarks/AllocationCounter"),
        .executableTarget(name: "Benchmarks", dependencies: ["Bilevel", "Layers", "Tape", "TapeKernels", "AllocationCounter"],
                          path: "Benchmarks/Runner"),
        .testTarget(name: "TapeTests", dependencies: ["Tape", "TapeKernels"], path: "Tests/TapeTests"),
        .testTarget(name: "LayersTests", dependencies: ["Layers", "Tape"], path: "Tests/LayersTests"),
        .testTarget(name: "BilevelTests", dependencies: ["Bilevel", "Layers", "Tape"], path: "Tests/BilevelTests"),
        .testTarget(name: "DemosTests", dependencies: ["Demos", "Bilevel", "Layers", "Tape"], path: "Tests/DemosTests"),
        // Every Swift block of README.md and docs/**/*.md, compiled and run as a test: the DocSnippets build
        // plugin runs DocSnippetExtractor over the Markdown before DocTests compiles. Only the public API is
        // imported, as a user's package would.
        .executableTarget(name: "DocSnippetExtractor", path: "Plugins/DocSnippetExtractor"),
        .plugin(name: "DocSnippets", capability: .buildTool(), dependencies: ["DocSnippetExtractor"], path: "Plugins/DocSnippets"),
        .testTarget(name: "DocTests", dependencies: ["Bilevel", "Layers", "Tape"], path: "Tests/DocTests", plugins: ["DocSnippets"]),
    ]
)
