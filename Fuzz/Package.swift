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

func fuzzTarget(_ name: String, libraries: [String] = ["ISCSI"]) -> Target {
    .executableTarget(
        name: name,
        dependencies: [
            "FuzzDriver",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ] + libraries.map { .product(name: $0, package: vdiskd) },
        swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
    )
}

let package = Package(
    name: "vdiskd-fuzz",
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .target(name: "FuzzDriver"),
        fuzzTarget("FuzzPDUDecoder"),
        fuzzTarget("FuzzCDB", libraries: ["VSCSI", "SCSI", "BlockDevice"]),
        fuzzTarget("FuzzTextKeys"),
    ]
)
