// swift-tools-version:6.0
import Foundation
import PackageDescription

// The numeric kernels are compiled for AVX2 + FMA (x86-64 CPUs from 2013 on: Intel Haswell,
// AMD Zen): elementwise work (GELU, softmax, layer norm) runs twice as fast as on baseline x86-64.
// Build with JEPA_PORTABLE=1 in the environment for older x86-64 CPUs.
#if arch(x86_64)
let kernelSettings: [SwiftSetting] = ProcessInfo.processInfo.environment["JEPA_PORTABLE"] == nil
    ? [.unsafeFlags(["-target-cpu", "haswell"]), .define("FMA")] : []
#else
let kernelSettings: [SwiftSetting] = []
#endif

let package = Package(
    name: "jepa-swift",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "jepa", targets: ["jepa"]),
        .library(name: "Tensors", targets: ["Tensors"]),
        .library(name: "NN", targets: ["NN"]),
        .library(name: "HDF5", targets: ["HDF5"]),
        .library(name: "Worlds", targets: ["Worlds"]),
        .library(name: "Imaging", targets: ["Imaging"]),
        .library(name: "Config", targets: ["Config"]),
        .library(name: "Checkpoints", targets: ["Checkpoints"]),
        .library(name: "JEPA", targets: ["JEPA"]),
        .library(name: "Evaluation", targets: ["Evaluation"]),
        .library(name: "Planning", targets: ["Planning"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
        .target(name: "Tensors", dependencies: ["CBLAS"], swiftSettings: kernelSettings),
        .target(name: "NN", dependencies: ["Tensors"]),
        .target(name: "HDF5", dependencies: ["CHDF5"]),
        .target(name: "Checksums"),
        .target(name: "Distributed"),
        .target(name: "Imaging", dependencies: ["Checksums"]),
        .target(name: "Worlds", dependencies: ["Tensors", "HDF5"], swiftSettings: kernelSettings),
        .target(name: "Config", dependencies: [.product(name: "Yams", package: "Yams")]),
        .target(name: "Checkpoints", dependencies: ["Tensors", "NN", "HDF5", "Checksums"]),
        .target(name: "JEPA", dependencies: ["Tensors", "NN", "HDF5", "Worlds", "Checkpoints", "Config", "Checksums", "Distributed"], swiftSettings: kernelSettings),
        .target(name: "Evaluation", dependencies: ["CBLAS", "Tensors", "NN", "HDF5", "Worlds", "JEPA", "Imaging", "Checkpoints"]),
        .target(name: "Agent", dependencies: ["NN", "Tensors", "Planning", "JEPA", "Worlds"]),
        .target(name: "Sweeps", dependencies: ["Config", "Tensors", "Imaging"]),
        .target(name: "Planning", dependencies: ["Tensors", "NN", "Worlds", "JEPA", "Imaging"]),
        .executableTarget(name: "jepa", dependencies: [
            "Tensors", "NN", "HDF5", "Worlds", "Imaging", "Config", "Checkpoints", "JEPA", "Evaluation", "Planning", "Sweeps", "Distributed", "Agent", "CBLAS",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "TensorsTests", dependencies: ["Tensors"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "Tensors", "HDF5"], resources: [.copy("Fixtures")]),
        .testTarget(name: "HDF5Tests", dependencies: ["HDF5"], resources: [.copy("Fixtures")]),
        .testTarget(name: "WorldsTests", dependencies: ["Worlds", "HDF5", "Tensors"]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "Checksums"]),
        .testTarget(name: "ConfigTests", dependencies: ["Config"]),
        .testTarget(name: "CheckpointsTests", dependencies: ["Checkpoints", "NN", "Tensors", "HDF5"]),
        .testTarget(name: "ForeignWeightsTests", dependencies: ["Checkpoints", "JEPA", "Config", "NN", "Tensors", "HDF5"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "JEPATests", dependencies: ["JEPA", "Evaluation", "NN", "Tensors", "Worlds", "HDF5"]),
        .testTarget(name: "CommandLineTests", dependencies: ["jepa", "Checkpoints"]),
        .testTarget(name: "AgentTests", dependencies: ["Agent", "Planning", "JEPA", "Worlds", "Checkpoints", "NN", "Tensors"]),
        .testTarget(name: "SweepsTests", dependencies: ["Sweeps", "Config", "JEPA"]),
        .testTarget(name: "PlanningTests", dependencies: ["Planning", "JEPA", "NN", "Tensors", "Worlds"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "JEPA", "Config", "Tensors", "Worlds", "HDF5"]),
    ]
)
