// Everything a test asks of one istgt instance.

public struct IstgtConfiguration: Hashable, Sendable {
    public var targets: [IstgtTargetSpec]
    /// How long istgt may take to open its portals.
    public var startTimeout: Duration
    /// More loopback addresses (127.0.0.2, …) the portal group also listens on, at the same
    /// port: a target with several portals, listed together in a SendTargets answer.
    public var extraPortalHosts: [String]

    public init(targets: [IstgtTargetSpec], startTimeout: Duration = .seconds(60), extraPortalHosts: [String] = []) {
        self.targets = targets
        self.startTimeout = startTimeout
        self.extraPortalHosts = extraPortalHosts
    }

    func validate() throws(TestSupportError) {
        guard !targets.isEmpty else {
            throw TestSupportError(.invalidConfiguration, "an istgt configuration needs at least one target")
        }
        for host in extraPortalHosts where !host.hasPrefix("127.") || host == "127.0.0.1" {
            throw TestSupportError(.invalidConfiguration, "an extra istgt portal must be another loopback address (127.0.0.2, …), not \(host)")
        }
        var iqns: Set<String> = []
        for target in targets {
            guard iqns.insert(target.iqn).inserted else {
                throw TestSupportError(.invalidConfiguration, "target \(target.iqn) is configured twice")
            }
            // A bare name would get istgt's NodeBase prefixed; a full IQN is
            // used as written, which is what the test will connect to.
            guard target.iqn.contains(":") else {
                throw TestSupportError(.invalidConfiguration, "istgt target name \(target.iqn) must be a full IQN (iqn.YYYY-MM.domain:name)")
            }
            guard !target.luns.isEmpty else {
                throw TestSupportError(.invalidConfiguration, "\(target.iqn): istgt needs at least one LUN per target")
            }
            var numbers: Set<Int> = []
            for lun in target.luns {
                guard (0..<64).contains(lun.number), numbers.insert(lun.number).inserted else {
                    throw TestSupportError(.invalidConfiguration, "\(target.iqn): LUN \(lun.number) is out of istgt's range 0...63 or configured twice")
                }
                guard case .file(let size) = lun.backing, size > 0, size % 512 == 0 else {
                    throw TestSupportError(.invalidConfiguration, "\(target.iqn): LUN \(lun.number) must be file-backed with a positive size that is a multiple of 512 (istgt has no null backing store)")
                }
                guard !lun.thinProvisioning else {
                    throw TestSupportError(.invalidConfiguration, "\(target.iqn): LUN \(lun.number): thin provisioning is a tgt setting; istgt 0.4 has none")
                }
            }
            if let chap = target.chap {
                for value in [chap.initiator.user, chap.initiator.secret, chap.target?.user, chap.target?.secret].compactMap({ $0 }) where value.contains("\"") {
                    throw TestSupportError(.invalidConfiguration, "\(target.iqn): CHAP names and secrets for istgt cannot contain a double quote")
                }
            }
        }
    }
}
