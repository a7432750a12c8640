// swift-tools-version: 6.0
import PackageDescription

// Hot numerical modules drop bounds checks in release builds only; tests build in debug with checks on.
// Haswell-level x86-64 (AVX2 + FMA; Zen 1 and later) is the baseline Tessera targets; without it LLVM
// emits neither FMA nor 256-bit vectors.
let hotLoops: [SwiftSetting] = [
  .unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release)),
  .unsafeFlags(["-target-cpu", "haswell"]),
]
let cpuBaseline: [SwiftSetting] = [
  .unsafeFlags(["-target-cpu", "haswell"]),
]

let package = Package(
  name: "Tessera",
  products: [
    .executable(name: "tessera", targets: ["tessera"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
  ],
  targets: [
    // MARK: - System libraries (module map + static inline shim header each)
    .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
    .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(name: "CHDF5", pkgConfig: "hdf5-openmpi", providers: [.apt(["libhdf5-openmpi-dev"])]),

    // MARK: - Engine, one concern per module; dependencies point down this list
    .target(name: "Geometry", swiftSettings: cpuBaseline),
    .target(name: "Atoms", dependencies: ["Geometry"], swiftSettings: hotLoops),
    .target(name: "Communication", dependencies: ["CMPI"], swiftSettings: cpuBaseline),
    .target(name: "Decomposition", dependencies: ["Geometry", "Atoms", "Communication"],
            swiftSettings: hotLoops),
    .target(name: "Neighbors", dependencies: ["Geometry", "Atoms"], swiftSettings: hotLoops),
    .target(name: "Potentials", dependencies: ["Geometry", "Atoms", "Neighbors"], swiftSettings: hotLoops),
    .target(name: "DeepPotential", dependencies: ["Geometry", "CHDF5", "CBLAS"], swiftSettings: hotLoops),
    .target(name: "Dynamics", dependencies: ["Geometry", "Atoms", "Communication", "Decomposition"],
            swiftSettings: hotLoops),
    .target(name: "InputDeck", swiftSettings: cpuBaseline),
    .target(name: "Output", dependencies: ["Geometry", "Atoms", "Communication"], swiftSettings: cpuBaseline),
    .target(name: "Trajectory", swiftSettings: cpuBaseline),
    .target(name: "H5MD", dependencies: ["Geometry", "Atoms", "Communication", "CHDF5"], swiftSettings: cpuBaseline),
    // The Deep Potential's engine side: the Potential adapter, the deviation ensemble, `tessera eval`.
    .target(name: "DeepPotentialEngine",
            dependencies: ["Geometry", "Atoms", "Communication", "Decomposition", "Neighbors", "Potentials",
                           "DeepPotential", "InputDeck", "Output", "Trajectory"],
            swiftSettings: cpuBaseline),
    .target(name: "Simulation",
            dependencies: ["Geometry", "Atoms", "Communication", "Decomposition", "Neighbors", "Potentials",
                           "DeepPotential", "DeepPotentialEngine", "Dynamics", "InputDeck", "Output", "Trajectory",
                           "H5MD"],
            swiftSettings: cpuBaseline),

    // MARK: - Executable
    .executableTarget(name: "tessera",
                      dependencies: ["Simulation", "DeepPotentialEngine", "InputDeck",
                                     .product(name: "ArgumentParser", package: "swift-argument-parser")],
                      swiftSettings: cpuBaseline),
    // Seeded mutation fuzzing of the deck, data file and model parsers (run by FuzzTests).
    // Rewrites a .dp file's json document in place, for the fuzzer and the model tests.
    .target(name: "ModelFileEditing", dependencies: ["CHDF5"]),
    .executableTarget(name: "tessera-fuzz",
                      dependencies: ["Simulation", "InputDeck", "DeepPotential", "Communication", "Output", "Dynamics",
                                     "CHDF5", "ModelFileEditing"],
                      swiftSettings: cpuBaseline),

    // MARK: - Tests
    .target(name: "TesseraTestSupport", dependencies: ["Geometry", "Atoms", "Communication"],
            path: "Sources/TesseraTestSupport"),
    .testTarget(name: "GeometryTests", dependencies: ["Geometry", "TesseraTestSupport"]),
    .testTarget(name: "DeepPotentialTests",
                dependencies: ["DeepPotential", "CHDF5", "Trajectory", "TesseraTestSupport", "ModelFileEditing"]),
    .testTarget(name: "EngineTests",
                dependencies: ["Geometry", "Atoms", "Communication", "Decomposition", "Neighbors",
                               "Potentials", "Dynamics", "InputDeck", "Simulation", "TesseraTestSupport"]),
    .testTarget(name: "CommunicationTests", dependencies: ["Communication", "TesseraTestSupport"]),
    .testTarget(name: "DecompositionTests",
                dependencies: ["Geometry", "Atoms", "Communication", "Decomposition", "TesseraTestSupport"]),
    .testTarget(name: "NeighborsTests", dependencies: ["Geometry", "Atoms", "Neighbors", "TesseraTestSupport"]),
    .testTarget(name: "DynamicsTests",
                dependencies: ["Geometry", "Atoms", "Communication", "Dynamics", "TesseraTestSupport"]),
    .testTarget(name: "InputDeckTests", dependencies: ["InputDeck", "TesseraTestSupport"]),
    .testTarget(name: "OutputTests", dependencies: ["Geometry", "Atoms", "Communication", "Output", "TesseraTestSupport"]),
    .testTarget(name: "H5MDTests",
                dependencies: ["Geometry", "Atoms", "Communication", "H5MD", "CHDF5", "TesseraTestSupport"]),
    .testTarget(name: "TestSupportTests", dependencies: ["TesseraTestSupport"]),
    .testTarget(name: "TrajectoryTests", dependencies: ["Trajectory", "TesseraTestSupport"]),
    .testTarget(name: "EndToEndTests", dependencies: ["Trajectory", "TesseraTestSupport"]),
  ]
)
