// swift-tools-version:6.1
// libFuzzer targets for vdiskd, kept out of the main package so its normal builds never see
// -sanitize=fuzzer. Run one with Scripts/fuzz TARGET SECONDS (see docs/FUZZING.md).
//
// To add a target: a folder Sources/FuzzSomething/ with one file exporting
// @_cdecl("LLVMFuzzerTestOneInput"), a `fuzzTarget("FuzzSomething")` line below,
// and optionally seed inputs in seeds/FuzzSomething/.
import Foundation
import PackageDescription

// A path dependency's identity is its folder's name, which differs between
// checkouts (main, worktrees); derive it instead of spelling it.
let vdiskd = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .lastPathComponent.lowercased()

func fuzzTarget(_ name: String) -> Target {
    .executableTarget(
        name: name,
        dependencies: [
            .product(name: "ISCSI", package: vdiskd),
            .product(name: "NIOCore", package: "swift-nio"),
        ],
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
        fuzzTarget("FuzzPDUDecoder")
    ]
)
