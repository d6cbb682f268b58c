// What a killed test run leaves of its containers, and its removal at the next run's start.
// Every folder, mount and network namespace the container harness makes is named
// "vdct<pid>-…" after the test process that made it; a name whose process is gone is an orphan.

import Foundation
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

enum ContainerLeftovers {
    static let prefix = "vdct"

    /// Outside the "vdiskd-" scratch folders (whose own sweep deletes recursively, which must
    /// never happen through a mounted overlay).
    static var baseDirectory: String {
        let temporary = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        return "\(temporary)/vdiskd_containers"
    }

    /// Once per process, before the first lab: kills processes still running in an orphan's
    /// trees (a container whose nspawn was killed), unmounts its overlays, deletes its namespaces
    /// and folders.
    static let swept: Task<Void, any Error> = Task { try await sweep() }

    /// The test process that made `name` ("vdct1234-2-br" → 1234) if it is gone.
    static func isOrphan(_ name: String) -> Bool {
        LeftoverOwner.isOrphan(name, prefix: prefix)
    }

    private static func sweep() async throws {
        let base = baseDirectory
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        let orphans = ((try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []).filter(isOrphan)
        let orphanPaths = orphans.map { "\(base)/\($0)/" }

        // Containers still running in an orphan's tree: their init (another PID namespace) has its
        // root on an overlay whose layers are in the orphan's folder. Killing the init ends the
        // whole PID namespace. (/proc/PID/root reads "/" from outside, so the mount table tells.)
        let ownNamespace = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/pid")
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = pid_t(entry),
                  let namespace = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(entry)/ns/pid"),
                  namespace != ownNamespace,
                  let mounts = try? String(contentsOfFile: "/proc/\(entry)/mountinfo", encoding: .utf8),
                  let rootMount = mounts.split(separator: "\n").first(where: { $0.split(separator: " ").dropFirst(4).first == "/" })
            else {
                continue
            }
            if orphanPaths.contains(where: { rootMount.contains($0) }) {
                _ = kill(pid, SIGKILL)
            }
        }
        // Their mounts, deepest first.
        let mounts = ((try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)) ?? "")
            .split(separator: "\n")
            .compactMap { line -> String? in
                let fields = line.split(separator: " ")
                return fields.count > 1 ? String(fields[1]) : nil
            }
            .filter { mount in orphanPaths.contains { "\(mount)/".hasPrefix($0) } }
            .sorted { $0.count > $1.count }
        for mount in mounts {
            _ = try? await ContainerLab.run("umount", ["--lazy", mount], check: false)
        }
        // Their network namespaces.
        for namespace in (try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? [] where isOrphan(namespace) {
            _ = try? await ContainerLab.run("ip", ["netns", "delete", namespace], check: false)
        }
        for orphan in orphans {
            try? FileManager.default.removeItem(atPath: "\(base)/\(orphan)")
        }
    }
}
