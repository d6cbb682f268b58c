// One target a test wants LIO to serve: IQN, LUNs on virtio disks, who may log in, and the
// login parameters and ALUA layout of its target portal groups.

public struct LIOTargetSpec: Hashable, Sendable {
    public var iqn: String
    /// File-backed only; LIO numbers LUNs from 0.
    public var luns: [LUNSpec]
    public var backstore: LIOBackstore
    /// CHAP the initiator must pass; with a target account, mutual CHAP.
    public var chap: CHAPAuthentication?
    /// nil: demo mode, any initiator logs in and sees every LUN. Otherwise explicit ACLs:
    /// only these initiator names, each mapped to every LUN (with `chap` per ACL).
    public var allowedInitiators: [String]?
    /// TPG login parameters by their RFC 7143 key (ImmediateData=No, HeaderDigest=CRC32C, ...).
    public var parameters: [String: String]
    /// ALUA: also export the LUNs through TPG 2 on the guest's second portal, whose ports
    /// form the target port group `standbyGroup` in standby. TPG 1's ports stay in LIO's
    /// `default_tg_pt_gp` (id 0, active/optimized).
    public var standbyPortGroup: Bool
    /// false leaves TPG 1 without a network portal, so nothing answers a login: only for
    /// testing the harness's own readiness bound.
    public var listens: Bool

    public init(
        iqn: String,
        luns: [LUNSpec],
        backstore: LIOBackstore = .iblock,
        chap: CHAPAuthentication? = nil,
        allowedInitiators: [String]? = nil,
        parameters: [String: String] = [:],
        standbyPortGroup: Bool = false,
        listens: Bool = true
    ) {
        self.iqn = iqn
        self.luns = luns
        self.backstore = backstore
        self.chap = chap
        self.allowedInitiators = allowedInitiators
        self.parameters = parameters
        self.standbyPortGroup = standbyPortGroup
        self.listens = listens
    }

    /// The ALUA target port group TPG 2's ports join, and its id.
    public static let standbyGroup = "standby_gp"
    public static let standbyGroupID = 1
}
