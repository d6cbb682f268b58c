// The kernel and initramfs the LIO guest boots: built once from Debian's own kernel package
// (`apt-get download`, never the host's /boot or /lib/modules) and kept in a cache outside
// the clone, so later test runs start QEMU at once.

import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

public struct LIOGuestImage: Sendable, Hashable {
    public let kernel: String
    public let initramfs: String
    /// `uname -r` of the guest, e.g. 6.1.0-57-amd64.
    public let kernelVersion: String

    /// `$VDISKD_TEST_CACHE/lio-guest`, by default under /var/cache/vdiskd-tests; when that
    /// cannot be created (no root), under $TMPDIR.
    static var cacheDirectory: String {
        let environment = ProcessInfo.processInfo.environment
        if let configured = environment["VDISKD_TEST_CACHE"], !configured.isEmpty {
            return configured + "/lio-guest"
        }
        let system = "/var/cache/vdiskd-tests"
        if (try? FileManager.default.createDirectory(atPath: system, withIntermediateDirectories: true)) != nil,
           access(system, W_OK) == 0
        {
            return system + "/lio-guest"
        }
        return (environment["TMPDIR"] ?? "/tmp") + "/vdiskd-tests-cache/lio-guest"
    }

    /// The Debian metapackage whose dependency names the current kernel package.
    static let kernelMetapackage = "linux-image-amd64"

    /// One build per test process; parallel tests wait for the same one.
    private static let building = NIOLockedValueBox<Task<LIOGuestImage, any Error>?>(nil)

    /// The cached image, built first if the cache has none for the current kernel package
    /// and init script. A failed build leaves no partial image and throws one error naming
    /// the step that failed with its output.
    public static func prepared() async throws -> LIOGuestImage {
        let task = building.withLockedValue { task in
            if let task { return task }
            let started = Task { try await build() }
            task = started
            return started
        }
        do {
            return try await task.value
        } catch {
            // A later test may try again (after apt-get update, say); this one reports.
            building.withLockedValue { if $0 == task { $0 = nil } }
            throw error
        }
    }

    private static func build() async throws -> LIOGuestImage {
        for tool in [ExternalTool.busybox, .cpio, .modprobe, .depmod, .dpkgDeb, .aptGet, .aptCache] {
            _ = try tool.path()
        }
        let cache = cacheDirectory
        try makeDirectory(cache + "/pkg")
        let package = try await kernelPackage()
        let final = cache + "/" + package + "-" + fingerprint
        if let image = existing(at: final) {
            return image
        }
        let deb = try await download(package, into: cache + "/pkg")
        let staging = try temporaryDirectory(in: cache)
        do {
            let initPath = staging + "/init"
            guard FileManager.default.createFile(atPath: initPath, contents: Data(LIOGuestInit.script.utf8)) else {
                throw TestSupportError(.systemCallFailed, "cannot write the guest init to \(initPath)")
            }
            let result = try await ExternalCommand.run(
                executable: try ExternalTool.bash.path(),
                ["-c", LIOGuestBuild.script, "lio-guest-build", deb, staging, try ExternalTool.busybox.path(), initPath] + LIOGuestBuild.modules,
                timeout: .seconds(300)
            )
            guard result.succeeded else {
                throw TestSupportError(.startFailed, "building the LIO guest from \(deb) failed (\(result.status)): \(result.stderr.suffix(1500))")
            }
            // rename(2) is atomic: another process either sees the whole image or none.
            if rename(staging, final) != 0 {
                let error = errno
                try? FileManager.default.removeItem(atPath: staging)
                guard let image = existing(at: final) else {
                    throw TestSupportError(.systemCallFailed, "cannot move the built LIO guest to \(final): \(String(cString: strerror(error)))")
                }
                return image
            }
        } catch {
            try? FileManager.default.removeItem(atPath: staging)
            throw error
        }
        guard let image = existing(at: final) else {
            throw TestSupportError(.startFailed, "the LIO guest build in \(final) produced no vmlinuz, initramfs.cpio.gz and kernel-version")
        }
        return image
    }

    private static func existing(at directory: String) -> LIOGuestImage? {
        let version = TextFile.read(directory + "/kernel-version").trimmingCharacters(in: .whitespacesAndNewlines)
        let kernel = directory + "/vmlinuz"
        let initramfs = directory + "/initramfs.cpio.gz"
        guard !version.isEmpty, FileManager.default.fileExists(atPath: kernel), FileManager.default.fileExists(atPath: initramfs) else {
            return nil
        }
        return LIOGuestImage(kernel: kernel, initramfs: initramfs, kernelVersion: version)
    }

    /// What `linux-image-amd64` depends on, e.g. linux-image-6.1.0-57-amd64.
    private static func kernelPackage() async throws -> String {
        let answer = try await ExternalCommand.run(.aptCache, ["depends", kernelMetapackage], timeout: .seconds(60))
        for line in answer.stdout.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 2, fields[0] == "Depends:", fields[1].hasPrefix("linux-image-"), fields[1].dropFirst("linux-image-".count).first?.isNumber == true {
                return String(fields[1])
            }
        }
        throw TestSupportError(
            .startFailed,
            "`apt-cache depends \(kernelMetapackage)` names no kernel package (\(answer.status)): \(answer.stderr.suffix(500)); run `apt-get update` so the package lists exist"
        )
    }

    /// The package's .deb in `directory`, downloaded first if missing (into a temporary
    /// directory, then renamed, so an interrupted download leaves nothing behind).
    private static func download(_ package: String, into directory: String) async throws -> String {
        if let deb = debFile(of: package, in: directory) {
            return deb
        }
        let staging = try temporaryDirectory(in: directory)
        defer { try? FileManager.default.removeItem(atPath: staging) }
        let result = try await ExternalCommand.run(
            executable: "/bin/sh",
            ["-c", "cd \"$1\" && exec \"$2\" -q -o APT::Sandbox::User=root download \"$3\"", "download", staging, try ExternalTool.aptGet.path(), package],
            timeout: .seconds(600)
        )
        guard result.succeeded, let deb = debFile(of: package, in: staging) else {
            throw TestSupportError(
                .startFailed,
                "`apt-get download \(package)` failed (\(result.status)): \(result.stderr.suffix(800)); run `apt-get update`, or check network access to the Debian mirror"
            )
        }
        let name = (deb as NSString).lastPathComponent
        guard rename(deb, directory + "/" + name) == 0 || debFile(of: package, in: directory) != nil else {
            throw TestSupportError(.systemCallFailed, "cannot move \(deb) into \(directory): \(String(cString: strerror(errno)))")
        }
        return directory + "/" + name
    }

    private static func debFile(of package: String, in directory: String) -> String? {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return entries.filter { $0.hasPrefix(package + "_") && $0.hasSuffix(".deb") }.sorted().last.map { directory + "/" + $0 }
    }

    private static func makeDirectory(_ path: String) throws(TestSupportError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw TestSupportError(.systemCallFailed, "cannot create the LIO guest cache \(path): \(error); set VDISKD_TEST_CACHE to a writable directory")
        }
    }

    private static func temporaryDirectory(in parent: String) throws(TestSupportError) -> String {
        var template = Array((parent + "/.building.XXXXXX").utf8CString)
        guard let created = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw TestSupportError(.systemCallFailed, "mkdtemp in \(parent) failed: \(String(cString: strerror(errno)))")
        }
        return String(cString: created)
    }

    /// Changes whenever what goes into the image changes, so a stale cache is never booted.
    static var fingerprint: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in (LIOGuestInit.script + LIOGuestBuild.script + LIOGuestBuild.modules.joined(separator: " ")).utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}
