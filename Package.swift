// swift-tools-version: 6.1
import PackageDescription

// Arrows point one way (DESIGN.md): executables -> SOVCLI -> SOVBatch -> formats, rules,
// markup -> SOVCore. SOVCore depends on nothing of ours.
let package = Package(
    name: "SOVBridge",
    products: [
        .executable(name: "sov-parse", targets: ["sov-parse"]),
        .executable(name: "sov-validate", targets: ["sov-validate"]),
        .executable(name: "sov-markup", targets: ["sov-markup"]),
        .executable(name: "sov-emit", targets: ["sov-emit"]),
        .executable(name: "sov-run", targets: ["sov-run"]),
        .executable(name: "sov-watch", targets: ["sov-watch"]),
        .executable(name: "sov-ledger", targets: ["sov-ledger"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibXML2",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"])]
        ),
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .target(name: "SOVCore"),
        .target(name: "SpectrumFormat", dependencies: ["SOVCore", "CLibXML2"]),
        .target(name: "ProcoreFormat", dependencies: ["SOVCore"]),
        .target(name: "SOVRules", dependencies: ["SOVCore"]),
        .target(name: "SOVMarkup", dependencies: ["SOVCore"]),
        .target(name: "SOVDelivery", dependencies: ["SOVCore"]),
        .target(
            name: "SOVBatch",
            dependencies: ["SOVCore", "SpectrumFormat", "ProcoreFormat", "SOVRules", "SOVMarkup", "CSQLite"]
        ),
        .target(
            name: "SOVCLI",
            dependencies: [
                "SOVCore", "SpectrumFormat", "ProcoreFormat", "SOVRules", "SOVMarkup", "SOVBatch",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "sov-parse", dependencies: ["SOVCLI"]),
        .executableTarget(name: "sov-validate", dependencies: ["SOVCLI"]),
        .executableTarget(name: "sov-markup", dependencies: ["SOVCLI"]),
        .executableTarget(name: "sov-emit", dependencies: ["SOVCLI"]),
        .executableTarget(name: "sov-run", dependencies: ["SOVCLI"]),
        .executableTarget(name: "sov-watch", dependencies: ["SOVCLI"]),
        .executableTarget(name: "sov-ledger", dependencies: ["SOVCLI"]),
        .testTarget(
            name: "SOVCoreTests",
            dependencies: ["SOVCore", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(name: "SpectrumFormatTests", dependencies: ["SpectrumFormat", "SOVCore"]),
        .testTarget(name: "ProcoreFormatTests", dependencies: ["ProcoreFormat", "SOVCore"]),
        .testTarget(name: "SOVRulesTests", dependencies: ["SOVRules", "SOVCore"]),
        .testTarget(
            name: "SOVMarkupTests",
            dependencies: ["SOVMarkup", "SOVCore", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(name: "SOVBatchTests", dependencies: ["SOVBatch", "SOVCore"]),
        .testTarget(name: "SOVDeliveryTests", dependencies: ["SOVDelivery", "SOVCore"]),
        .testTarget(name: "EndToEndTests", dependencies: ["SOVCore", "SpectrumFormat"]),
    ],
    swiftLanguageModes: [.v6]
)
