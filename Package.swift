// swift-tools-version: 6.1
import PackageDescription

// Arrows point one way (docs/ARCHITECTURE.md, "Modules and their arrows"): executables -> the
// command modules -> SOVBatch -> SOVFrontEnd -> formats, rules, markup -> SOVCore. SOVCore
// depends on nothing of ours. Delivery (an HTTP client) is linked only by the executables that
// deliver: sov-push, sov-run and sov-watch go through SOVPushCLI -> SOVPush -> SOVDelivery; the
// four stages never link it, and sov-parse, sov-markup and sov-emit link no ledger either.
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
        .executable(name: "sov-push", targets: ["sov-push"]),
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
        // The PostgreSQL ledger (docs/ARCHITECTURE.md, "Ledger backends"): libpq, blocking like SQLite.
        .systemLibrary(
            name: "CPostgres",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // zlib: the SQLite ledger stores unit bodies and documents deflated (docs/ARCHITECTURE.md, "Ledger backends").
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // zstd: the form the SQLite ledger writes them in now, a third cheaper than libdeflate at level 1
        // (zlib reads the rows written before; docs/ARCHITECTURE.md, "Ledger backends").
        .systemLibrary(
            name: "CZstd",
            pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]
        ),
        .target(name: "SOVCore"),
        .target(name: "SpectrumFormat", dependencies: ["SOVCore", "CLibXML2"]),
        .target(name: "ProcoreFormat", dependencies: ["SOVCore"]),
        .target(name: "SOVRules", dependencies: ["SOVCore"]),
        .target(name: "SOVMarkup", dependencies: ["SOVCore"]),
        .target(name: "SOVDelivery", dependencies: ["SOVCore"]),
        .target(name: "SOVPush", dependencies: ["SOVCore", "SOVFrontEnd", "SOVBatch", "SOVDelivery"]),
        // The front end: settings, and the one input loop every reading command goes through.
        .target(name: "SOVFrontEnd", dependencies: ["SOVCore", "SpectrumFormat", "ProcoreFormat"]),
        .target(
            name: "SOVBatch",
            dependencies: ["SOVCore", "SOVFrontEnd", "SpectrumFormat", "ProcoreFormat", "SOVRules", "SOVMarkup", "CSQLite", "CPostgres", "CZlib", "CZstd"]
        ),
        // The stages that need no ledger: sov-parse, sov-markup and sov-emit link neither SQLite
        // nor libpq (nor what libpq brings: TLS, Kerberos, LDAP), which keeps them small.
        .target(
            name: "SOVCLI",
            dependencies: [
                "SOVCore", "SpectrumFormat", "ProcoreFormat", "SOVRules", "SOVMarkup", "SOVFrontEnd",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The commands that read the ledger but never deliver: sov-validate and sov-ledger.
        .target(
            name: "SOVLedgerCLI",
            dependencies: [
                "SOVCore", "SOVRules", "SOVFrontEnd", "SOVBatch", "SOVCLI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "sov-parse", dependencies: ["SOVCLI"]),
        .executableTarget(name: "sov-validate", dependencies: ["SOVLedgerCLI"]),
        .executableTarget(name: "sov-markup", dependencies: ["SOVCLI"]),
        .executableTarget(name: "sov-emit", dependencies: ["SOVCLI"]),
        .target(
            name: "SOVPushCLI",
            dependencies: [
                "SOVCore", "SOVFrontEnd", "SOVBatch", "SOVPush", "SOVCLI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "sov-run", dependencies: ["SOVPushCLI"]),
        .executableTarget(name: "sov-watch", dependencies: ["SOVPushCLI"]),
        .executableTarget(name: "sov-push", dependencies: ["SOVPushCLI"]),
        .executableTarget(name: "sov-ledger", dependencies: ["SOVLedgerCLI"]),
        .testTarget(
            name: "SOVCoreTests",
            dependencies: ["SOVCore", "SOVTestSupport", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(name: "SpectrumFormatTests", dependencies: ["CLibXML2", "SOVCLI", "SOVFrontEnd", "SpectrumFormat", "SOVCore", "SOVTestSupport"]),
        .testTarget(name: "ProcoreFormatTests", dependencies: ["ProcoreFormat", "SOVCore", "SOVTestSupport"]),
        .testTarget(name: "SOVRulesTests", dependencies: ["SOVRules", "SOVCore", "SOVTestSupport"]),
        .testTarget(
            name: "SOVMarkupTests",
            dependencies: ["SOVMarkup", "SOVCore", "SOVTestSupport", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(name: "SOVBatchTests", dependencies: ["SOVBatch", "SOVFrontEnd", "SOVCore", "SOVTestSupport"]),
        // Test tools (the child-process runner, the temporary folder, the stand-ins' launcher), used by
        // every test target; never linked by anything shipped, and linking no CLI or executable.
        .target(name: "SOVTestSupport", dependencies: ["SOVCore", "SOVDelivery"], path: "Tests/Support"),
        .testTarget(name: "SOVDeliveryTests", dependencies: ["SOVDelivery", "SOVCore", "SOVTestSupport"]),
        .testTarget(name: "SOVPushTests", dependencies: ["SOVPush", "SOVFrontEnd", "SOVBatch", "SOVDelivery", "SOVCore", "SOVTestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["SOVCore", "SpectrumFormat", "SOVTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
