// swift-tools-version:6.1
// vdiskd: a user-space iSCSI initiator daemon serving virtual SCSI disks.
// One target per layer; see docs/ARCHITECTURE.md for what each owns.
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "vdiskd",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "vdiskctl", targets: ["vdiskctl"]),
        .executable(name: "vdiskd", targets: ["vdiskd"]),
        .library(name: "SCSI", targets: ["SCSI"]),
        .library(name: "ISCSIAddress", targets: ["ISCSIAddress"]),
        .library(name: "ISCSI", targets: ["ISCSI"]),
        .library(name: "BlockDevice", targets: ["BlockDevice"]),
        .library(name: "VSCSI", targets: ["VSCSI"]),
        .library(name: "Export", targets: ["Export"]),
        .library(name: "LibISCSI", targets: ["LibISCSI"]),
        .library(name: "Datastore", targets: ["Datastore"]),
        .library(name: "Filters", targets: ["Filters"]),
        .library(name: "Paths", targets: ["Paths"]),
        .library(name: "Control", targets: ["Control"]),
        .library(name: "Daemon", targets: ["Daemon"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // Pure SCSI values: CDBs, sense data, status, VPD pages. No I/O.
        .target(name: "SCSI", swiftSettings: swiftSettings),

        // Where a target or a listener is: host:port endpoints and iscsi:// target URLs, one
        // parser for both engines, the export, the daemon and the CLI. No dependencies, so
        // every one of them can import it (the libiscsi engine does not import ISCSI).
        .target(name: "ISCSIAddress", swiftSettings: swiftSettings),

        // Hardware CRC32C (SSE4.2) with a portable fallback.
        .target(name: "CCRC32C"),

        // The BlockDevice face shared by every engine and the datastore.
        .target(
            name: "BlockDevice",
            dependencies: [
                "SCSI",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),

        // RFC 7143 initiator: PDUs, digests, login, session, discovery.
        .target(
            name: "ISCSI",
            dependencies: [
                "SCSI",
                "ISCSIAddress",
                "BlockDevice",
                "CCRC32C",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: swiftSettings
        ),

        // The clustered datastore on a LUN: format, disks, block maps, journal, heartbeats, locks.
        .target(
            name: "Datastore",
            dependencies: [
                "SCSI",
                "BlockDevice",
                "CCRC32C",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),

        // One BlockDevice per LUN over several paths (sessions on either engine, injected):
        // policies, failover, probing, ALUA, all-paths-down and device loss.
        .target(
            name: "Paths",
            dependencies: [
                "SCSI",
                "BlockDevice",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),

        // The per-disk I/O filter chain (VAIO-style categories) and the built-in filters.
        .target(
            name: "Filters",
            dependencies: [
                "SCSI",
                "BlockDevice",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),

        // SCSI logical-unit emulation over any BlockDevice, for the export's targets.
        .target(
            name: "VSCSI",
            dependencies: [
                "SCSI",
                "BlockDevice",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: swiftSettings
        ),

        // The iSCSI target front end: serves logical units to clients over TCP.
        .target(
            name: "Export",
            dependencies: [
                "SCSI",
                "ISCSIAddress",
                "ISCSI",
                "VSCSI",
                "BlockDevice",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: swiftSettings
        ),

        // libiscsi (Debian libiscsi-dev) as a system library: the C initiator QEMU builds on.
        .systemLibrary(
            name: "CLibISCSI",
            pkgConfig: "libiscsi",
            providers: [.apt(["libiscsi-dev"])]
        ),

        // The libiscsi-backed engine behind the same BlockDevice face as the native LUN.
        .target(
            name: "LibISCSI",
            dependencies: [
                "CLibISCSI",
                "ISCSIAddress",
                "BlockDevice",
                "SCSI",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // The control socket's wire: JSON-RPC values, requests, errors and the client, all that
        // vdiskctl needs to speak to vdiskd without linking the daemon.
        .target(
            name: "Control",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),

        // The daemon: config, services, the JSON-RPC control socket's server, systemd notify.
        .target(
            name: "Daemon",
            dependencies: [
                "Control",
                "ISCSIAddress",
                "SCSI",
                "ISCSI",
                "BlockDevice",
                "Datastore",
                "Filters",
                "Paths",
                "LibISCSI",
                "VSCSI",
                "Export",
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "vdiskd", dependencies: ["Daemon"], swiftSettings: swiftSettings),

        // Command implementations behind vdiskctl, kept apart so tests can call them.
        .target(
            name: "VDiskCLI",
            dependencies: [
                "Control",
                "ISCSIAddress",
                "SCSI",
                "ISCSI",
                "LibISCSI",
                "Paths",
                "BlockDevice",
                "Datastore",
                "VSCSI",
                "Export",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "vdiskctl", dependencies: ["VDiskCLI"], swiftSettings: swiftSettings),

        // Starts real iSCSI targets (tgtd, istgt, LIO in a QEMU guest) on loopback for the integration tests.
        .target(
            name: "TestSupport",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),

        // One harness target (tgtd, or LIO in its QEMU guest) as a process, for scripts: Scripts/conformance.
        .executableTarget(
            name: "vdiskd-testbed",
            dependencies: ["TestSupport"],
            path: "Tests/Testbed",
            swiftSettings: swiftSettings
        ),

        .testTarget(name: "SCSITests", dependencies: ["SCSI"], swiftSettings: swiftSettings),
        .testTarget(name: "PathsTests", dependencies: ["Paths", "SCSI"], swiftSettings: swiftSettings),
        .testTarget(name: "ISCSIAddressTests", dependencies: ["ISCSIAddress"], swiftSettings: swiftSettings),
        .testTarget(
            name: "BlockDeviceTests",
            dependencies: ["BlockDevice", "SCSI", "TestSupport", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VSCSITests",
            dependencies: ["VSCSI", "SCSI", "BlockDevice", "TestSupport", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ExportTests",
            dependencies: [
                "ISCSIAddress",
                "Export",
                "ISCSI",
                "VSCSI",
                "SCSI",
                "BlockDevice",
                "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FiltersTests",
            dependencies: ["Filters", "BlockDevice", "SCSI", "TestSupport", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DatastoreTests",
            dependencies: ["Datastore", "BlockDevice", "TestSupport", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LibISCSITests",
            dependencies: [
                "ISCSIAddress",
                "TestSupport",
                "LibISCSI",
                "BlockDevice",
                "SCSI",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ISCSITests",
            dependencies: [
                "ISCSIAddress",
                "ISCSI",
                "SCSI",
                "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The datastore on real targets: ATS locks on istgt, reservations and UNMAP on tgt,
        // hosts as separate vdiskctl processes.
        .testTarget(
            name: "DatastoreIntegrationTests",
            dependencies: [
                "ISCSIAddress",
                "Datastore",
                "ISCSI",
                "BlockDevice",
                "SCSI",
                "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DaemonTests",
            dependencies: [
                "ISCSIAddress",
                "Control",
                "Daemon",
                "VDiskCLI",
                "TestSupport",
                "ISCSI",
                "Datastore",
                "Filters",
                "VSCSI",
                "BlockDevice",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The Debian package in systemd-nspawn containers booting Debian 12 (needs root and
        // Scripts/install-deps' debootstrap and systemd-container; see docs/CONTAINERS.md).
        .testTarget(
            name: "ContainerTests",
            dependencies: [
                "Control",
                "TestSupport",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "ISCSIAddress",
                "TestSupport",
                "ISCSI",
                "LibISCSI",
                "Paths",
                "SCSI",
                "BlockDevice",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
