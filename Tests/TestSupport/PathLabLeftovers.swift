// What a killed test run leaves of its path labs, and its removal at the next run's first lab.
// tgtd and the programs a test started die with the test process (parent-death signal), and
// ScratchDirectory's own sweep removes the folders; the network namespaces stay, and with them
// anything that escaped the signal. Their names say whose they were ("vdpl<pid>-…").

import Foundation

enum PathLabLeftovers {
    /// Once per process, before the first lab.
    static let swept: Task<Void, Never> = Task { _ = await sweep() }

    /// Deletes every namespace named by a path lab of a process that is gone, after killing what
    /// still runs in it; returns the names deleted.
    static func sweep() async -> [String] {
        let orphans = ((try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? [])
            .filter { LeftoverOwner.isOrphan($0, prefix: PathLab.namePrefix) }
            .sorted()
        await PathLab.deleteNamespaces(orphans)
        return orphans
    }
}
