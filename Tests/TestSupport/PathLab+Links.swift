// Cutting, restoring and flapping a path lab's links, and reading what each has carried.

import Foundation

extension PathLab {
    /// Takes `link` down at `side` (see `PathLabLinkSide`: the target side, the default, is the
    /// silent loss an initiator must detect by itself). Cutting a cut link again is harmless.
    public func cut(link index: Int, at side: PathLabLinkSide = .target) async throws {
        let link = self.link(index)
        switch side {
        case .target:
            try await Self.ip(["-n", targetNamespace, "link", "set", link.targetInterface, "down"])
        case .host:
            try await Self.ip(["-n", hostNamespace, "link", "set", link.hostInterface, "down"])
        }
    }

    /// Brings both ends of `link` up again and puts back its route to the shared portal (which
    /// the kernel withdrew if the host side was down). Restoring an intact link is harmless.
    public func restore(link index: Int) async throws {
        let link = self.link(index)
        try await Self.ip(["-n", hostNamespace, "link", "set", link.hostInterface, "up"])
        try await Self.ip(["-n", targetNamespace, "link", "set", link.targetInterface, "up"])
        try await Self.addSharedRoute(link, in: hostNamespace)
    }

    /// Cuts every link (all paths down), at `side`.
    public func cutAll(at side: PathLabLinkSide = .target) async throws {
        for link in links.indices {
            try await cut(link: link, at: side)
        }
    }

    /// Restores every link, errors ignored, in a task of its own so that a cancelled test still
    /// leaves them up; `isUp(link:)` tells whether it worked.
    public func restoreAll() async {
        await Task {
            for link in self.links.indices {
                _ = try? await self.restore(link: link)
            }
        }.value
    }

    /// Cuts `link` and restores it every `period` (down for one period, up for the next) for
    /// `duration`, in a task of its own; the link is left up when the flap ends, is stopped, or
    /// the lab is torn down. Both bounds are checked, so the loop cannot outlive `duration`.
    public func flap(
        link index: Int,
        period: Duration = .milliseconds(200),
        duration: Duration = .seconds(30),
        at side: PathLabLinkSide = .target
    ) throws -> PathLabFlap {
        guard period > .zero, duration > .zero else {
            throw TestSupportError(.invalidConfiguration, "a flap of link \(index) needs a positive period and duration, not \(period) and \(duration)")
        }
        _ = link(index)
        let task = Task { [self] () -> Int in
            let clock = ContinuousClock()
            let end = clock.now.advanced(by: duration)
            let maximumCuts = Int(duration / period) / 2 + 1
            var cuts = 0
            while cuts < maximumCuts, clock.now < end, !Task.isCancelled {
                guard (try? await cut(link: index, at: side)) != nil else {
                    break
                }
                cuts += 1
                try? await Task.sleep(for: period)
                _ = try? await restore(link: index)
                if Task.isCancelled || clock.now >= end {
                    break
                }
                try? await Task.sleep(for: period)
            }
            // Whatever ended the loop, the link is left up (a restore is harmless when it is), in a
            // task of its own: a cancelled task's commands are killed before they run.
            await Task { _ = try? await self.restore(link: index) }.value
            return cuts
        }
        let flap = PathLabFlap(link: index, task: task)
        register(flap)
        return flap
    }

    /// What the host's interface on `link` has received and sent, from `ip -s -j link show`.
    public func byteCounters(link index: Int) async throws -> PathLabByteCounters {
        let link = self.link(index)
        let shown = try await Self.ip(["-n", hostNamespace, "-s", "-j", "link", "show", "dev", link.hostInterface])
        guard let interfaces = try? JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [[String: Any]],
              let statistics = interfaces.first?["stats64"] as? [String: Any],
              let received = statistics["rx"] as? [String: Any],
              let sent = statistics["tx"] as? [String: Any],
              let receivedBytes = (received["bytes"] as? NSNumber)?.uint64Value,
              let sentBytes = (sent["bytes"] as? NSNumber)?.uint64Value,
              let receivedPackets = (received["packets"] as? NSNumber)?.uint64Value,
              let sentPackets = (sent["packets"] as? NSNumber)?.uint64Value
        else {
            throw TestSupportError(.commandFailed, "`ip -n \(hostNamespace) -s -j link show dev \(link.hostInterface)` printed no stats64 rx/tx bytes and packets: \(shown.stdout)")
        }
        return PathLabByteCounters(receivedBytes: receivedBytes, transmittedBytes: sentBytes, receivedPackets: receivedPackets, transmittedPackets: sentPackets)
    }

    /// Whether both ends of `link` are administratively up (`ip link show` lists UP in their flags).
    public func isUp(link index: Int) async throws -> Bool {
        let link = self.link(index)
        let host = try await Self.ip(["-n", hostNamespace, "-j", "link", "show", "dev", link.hostInterface]).stdout
        let target = try await Self.ip(["-n", targetNamespace, "-j", "link", "show", "dev", link.targetInterface]).stdout
        return [host, target].allSatisfy { Self.flags(ofInterfaceIn: $0).contains("UP") }
    }

    private static func flags(ofInterfaceIn json: String) -> [String] {
        let interfaces = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [[String: Any]]
        return interfaces?.first?["flags"] as? [String] ?? []
    }
}
