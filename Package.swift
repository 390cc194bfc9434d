// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "jepa-swift",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "jepa", targets: ["jepa"]),
        .library(name: "Tensors", targets: ["Tensors"]),
        .library(name: "NN", targets: ["NN"]),
        .library(name: "HDF5", targets: ["HDF5"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
        .target(name: "Tensors", dependencies: ["CBLAS"]),
        .target(name: "NN", dependencies: ["Tensors"]),
        .target(name: "HDF5", dependencies: ["CHDF5"]),
        .executableTarget(name: "jepa", dependencies: [
            "Tensors", "NN", "HDF5", "CBLAS",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "TensorsTests", dependencies: ["Tensors"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "Tensors", "HDF5"], resources: [.copy("Fixtures")]),
        .testTarget(name: "HDF5Tests", dependencies: ["HDF5"]),
    ]
)
