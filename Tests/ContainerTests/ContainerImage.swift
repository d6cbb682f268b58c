// What every container of a test run boots: the cached Debian 12 tree (Scripts/container-rootfs)
// with the vdiskd package installed on top by dpkg, once per test process, into a layer of its own.
// Containers mount that layer and the cached tree read-only below their own upper layer, so no
// test ever writes to the cache, and no tree is copied.

import Foundation
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

actor ContainerImage {
    static let shared = ContainerImage()

    /// The layers once made: the package layer over the cached tree.
    private var made: Task<[String], any Error>?
    /// The package once found or built.
    private var package: Task<String, any Error>?

    static var repositoryRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    /// The overlay lower directories, topmost first: [package layer, Debian tree].
    func layers() async throws -> [String] {
        if let made {
            return try await made.value
        }
        let task = Task { try await Self.make(package: try await packagePath()) }
        made = task
        return try await task.value
    }

    /// The package under test, found or built once per test process.
    func packagePath() async throws -> String {
        if let package {
            return try await package.value
        }
        let task = Task { try await Self.findOrBuildPackage() }
        package = task
        return try await task.value
    }

    /// The package under test: $VDISKD_TEST_DEB (Scripts/test sets it after Scripts/package),
    /// else one Scripts/package builds now.
    private static func findOrBuildPackage() async throws -> String {
        if let path = ProcessInfo.processInfo.environment["VDISKD_TEST_DEB"], !path.isEmpty {
            guard FileManager.default.fileExists(atPath: path) else {
                throw TestSupportError(.invalidConfiguration, "VDISKD_TEST_DEB names \(path), which does not exist; run Scripts/package")
            }
            return path
        }
        let built = try await ExternalCommand.run(executable: "\(repositoryRoot)/Scripts/package", [], timeout: .seconds(3600)).check()
        return "\(repositoryRoot)/\(built.stdout.trimmingCharacters(in: .whitespacesAndNewlines))"
    }

    /// The cached Debian tree, built by Scripts/container-rootfs on first use.
    static func rootfsPath() async throws -> String {
        let result = try await ExternalCommand.run(executable: "\(repositoryRoot)/Scripts/container-rootfs", [], timeout: .seconds(1800))
        guard result.succeeded else {
            throw TestSupportError(.startFailed, result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func make(package deb: String) async throws -> [String] {
        try await ContainerLeftovers.swept.value
        let tree = try await rootfsPath()
        let directory = "\(ContainerLeftovers.baseDirectory)/\(ContainerLeftovers.prefix)\(getpid())-image"
        try? FileManager.default.removeItem(atPath: directory)
        for folder in ["upper", "work", "root"] {
            try FileManager.default.createDirectory(atPath: "\(directory)/\(folder)", withIntermediateDirectories: true)
        }
        let root = "\(directory)/root"
        try await ContainerLab.run("mount", ["-t", "overlay", "overlay", "-o", "lowerdir=\(tree),upperdir=\(directory)/upper,workdir=\(directory)/work", root])
        do {
            // dpkg as a user would run it: inside the tree, its maintainer scripts included.
            let install = try await ExternalCommand.run(
                executable: try ContainerLab.tool("systemd-nspawn"),
                ["--quiet", "--directory=\(root)", "--machine=\(ContainerLeftovers.prefix)\(getpid())-image", "--register=no", "--keep-unit",
                 "--private-network", "--pipe", "--bind-ro=\(deb):/run/vdiskd.deb", "--", "/usr/bin/dpkg", "--install", "/run/vdiskd.deb"],
                timeout: .seconds(120)
            )
            try install.check()
        } catch {
            _ = try? await ContainerLab.run("umount", [root], check: false)
            throw error
        }
        try await ContainerLab.run("umount", [root])
        // The work folder of an unmounted overlay is of no further use.
        try? FileManager.default.removeItem(atPath: "\(directory)/work")
        return ["\(directory)/upper", tree]
    }
}
