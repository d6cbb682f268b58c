// swift-tools-version:6.1
// libFuzzer targets for vdiskd, kept out of the main package so its normal builds never see
// -sanitize=fuzzer. Run one with Scripts/fuzz TARGET SECONDS (see docs/FUZZING.md).
//
// To add a target: a folder Sources/FuzzSomething/ with one file holding the
// test function (exported as @_cdecl("LLVMFuzzerTestOneInput")) and the entry
// point @_cdecl("FuzzSomething_main") that calls vdisk_fuzz_main (FuzzDriver
// explains why), a `fuzzTarget("FuzzSomething")` line below, and optionally
// seed inputs in seeds/FuzzSomething/.
import Foundation
import PackageDescription

// A path dependency's identity is its folder's name, which differs between
// checkouts (main, worktrees); derive it instead of spelling it.
let vdiskd = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .lastPathComponent.lowercased()

func fuzzTarget(_ name: String, libraries: [String] = ["ISCSI"], extra: [Target.Dependency] = []) -> Target {
    .executableTarget(
        name: name,
        dependencies: [
            "FuzzDriver",
            "FuzzSupport",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ] + libraries.map { .product(name: $0, package: vdiskd) } + extra,
        swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
    )
}

let package = Package(
    name: "vdiskd-fuzz",
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        .target(name: "FuzzDriver"),
        // Shared by the targets: an in-memory BlockDevice and the async bridge.
        .target(
            name: "FuzzSupport",
            dependencies: [
                .product(name: "BlockDevice", package: vdiskd),
                .product(name: "SCSI", package: vdiskd),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        ),
        fuzzTarget("FuzzPDUDecoder"),
        fuzzTarget("FuzzCDB", libraries: ["VSCSI", "SCSI", "BlockDevice"]),
        fuzzTarget("FuzzTextKeys"),
        fuzzTarget("FuzzDatastoreMetadata", libraries: ["Datastore", "BlockDevice"]),
        fuzzTarget("FuzzControlRequest", libraries: ["Control", "Daemon"], extra: [.product(name: "Logging", package: "swift-log")]),
    ]
)
