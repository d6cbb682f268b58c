// Everything a test asks of one tgtd instance.

public struct TgtConfiguration: Hashable, Sendable {
    public var targets: [TgtTargetSpec]
    /// How long tgtd may take to listen and answer tgtadm.
    public var startTimeout: Duration
    /// Another network namespace and its addresses; nil for a free port on 127.0.0.1 here.
    public var placement: TgtNetworkPlacement?

    public init(targets: [TgtTargetSpec], startTimeout: Duration = .seconds(60), placement: TgtNetworkPlacement? = nil) {
        self.targets = targets
        self.startTimeout = startTimeout
        self.placement = placement
    }

    /// Rejects what tgtd would refuse half-way through configuration, so the
    /// test author gets a precise message instead of a tgtadm error.
    func validate() throws(TestSupportError) {
        guard !targets.isEmpty else {
            throw TestSupportError(.invalidConfiguration, "a tgt configuration needs at least one target")
        }
        try placement?.validate()
        var iqns: Set<String> = []
        var accounts: [String: String] = [:]
        for target in targets {
            guard iqns.insert(target.iqn).inserted else {
                throw TestSupportError(.invalidConfiguration, "target \(target.iqn) is configured twice")
            }
            var numbers: Set<Int> = []
            for lun in target.luns {
                guard lun.number >= 1 else {
                    throw TestSupportError(.invalidConfiguration, "\(target.iqn): LUN \(lun.number) is not allowed; tgt reserves LUN 0 for its controller, use 1 or more")
                }
                guard numbers.insert(lun.number).inserted else {
                    throw TestSupportError(.invalidConfiguration, "\(target.iqn): LUN \(lun.number) is configured twice")
                }
                if case .file(let size) = lun.backing, size == 0 || size % 512 != 0 {
                    throw TestSupportError(.invalidConfiguration, "\(target.iqn): LUN \(lun.number) size \(size) must be a positive multiple of 512")
                }
            }
            // tgt accounts are per daemon: one user name has one password.
            for credentials in [target.chap?.initiator, target.chap?.target].compactMap({ $0 }) {
                if let existing = accounts[credentials.user], existing != credentials.secret {
                    throw TestSupportError(.invalidConfiguration, "CHAP user \(credentials.user) is given two different secrets; tgt accounts are shared by all targets of one tgtd")
                }
                accounts[credentials.user] = credentials.secret
            }
        }
    }
}
