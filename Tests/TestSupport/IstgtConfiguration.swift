// Everything a test asks of one istgt instance.

public struct IstgtConfiguration: Hashable, Sendable {
    public var targets: [IstgtTargetSpec]
    /// How long istgt may take to open its portals.
    public var startTimeout: Duration

    public init(targets: [IstgtTargetSpec], startTimeout: Duration = .seconds(60)) {
        self.targets = targets
        self.startTimeout = startTimeout
    }

    func validate() throws(TestSupportError) {
        guard !targets.isEmpty else {
            throw TestSupportError(.invalidConfiguration, "an istgt configuration needs at least one target")
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
