// The one LIO guest the test suite shares: every target the LIO tests use, on one boot.
// Tests in any test target reach it through `LIOSuiteGuest.with`; since all test targets run
// in one process, the guest boots once per `swift test` run.

public enum LIOSuiteGuest {
    public static let iqnPrefix = "iqn.2026-12.org.vdiskd.test.lio:"

    public static func iqn(_ name: String) -> String {
        iqnPrefix + name
    }

    public static let oneWayCHAP = CHAPAuthentication.oneWay(user: "alice", secret: "alice-secret-1234")
    public static let mutualCHAP = CHAPAuthentication.mutual(
        user: "alice", secret: "alice-secret-1234", targetUser: "lio-target", targetSecret: "target-secret-5678"
    )
    public static let discoveryCHAP = CHAPAccount(user: "finder", secret: "finder-secret-1234")
    /// The only initiator the `acl` target lets in.
    public static let allowedInitiator = "iqn.2026-12.org.vdiskd.test:allowed-host"

    /// The ImmediateData/InitialR2T combinations the `rw-…` targets force.
    public static let immediateDataInitialR2T = [(true, false), (true, true), (false, false), (false, true)]
    /// The header/data digest combinations the `digest-…` targets force.
    public static let digestCombinations = [(false, false), (true, false), (true, true)]

    public static func rwName(immediateData: Bool, initialR2T: Bool) -> String {
        "rw-id\(immediateData ? 1 : 0)-ir2t\(initialR2T ? 1 : 0)"
    }

    public static func digestName(header: Bool, data: Bool) -> String {
        "digest-h\(header ? 1 : 0)-d\(data ? 1 : 0)"
    }

    /// Datastore LUNs handed out one test at a time (`LIOLUNPool`).
    public static let datastoreTarget = "datastore"
    public static let datastoreLUNs = 8
    public static let datastoreLUNSize: UInt64 = 256 << 20

    /// Burst limits matching the initiator tests' small-burst offer.
    private static let bursts = ["FirstBurstLength": "65536", "MaxBurstLength": "262144", "MaxRecvDataSegmentLength": "65536"]

    public static let configuration: LIOConfiguration = {
        func lun(_ size: UInt64) -> [LUNSpec] { [.file(0, size: size, thinProvisioning: true)] }
        var targets = [
            LIOTargetSpec(iqn: iqn("plain"), luns: lun(64 << 20)),
            LIOTargetSpec(iqn: iqn("chap"), luns: lun(16 << 20), chap: oneWayCHAP),
            LIOTargetSpec(iqn: iqn("mutual"), luns: lun(16 << 20), chap: mutualCHAP),
            LIOTargetSpec(iqn: iqn("acl"), luns: lun(16 << 20), allowedInitiators: [allowedInitiator]),
            LIOTargetSpec(iqn: iqn("qd"), luns: lun(64 << 20), parameters: bursts),
            LIOTargetSpec(iqn: iqn("pr"), luns: lun(16 << 20)),
            LIOTargetSpec(iqn: iqn("alua"), luns: lun(16 << 20), standbyPortGroup: true),
            // The multipath suite's own: it swaps which group is optimized.
            LIOTargetSpec(iqn: iqn("alua-paths"), luns: lun(16 << 20), standbyPortGroup: true),
        ]
        for (immediateData, initialR2T) in immediateDataInitialR2T {
            var parameters = bursts
            parameters["ImmediateData"] = immediateData ? "Yes" : "No"
            parameters["InitialR2T"] = initialR2T ? "Yes" : "No"
            targets.append(LIOTargetSpec(iqn: iqn(rwName(immediateData: immediateData, initialR2T: initialR2T)), luns: lun(48 << 20), parameters: parameters))
        }
        for (header, data) in digestCombinations {
            let parameters = ["HeaderDigest": header ? "CRC32C" : "None", "DataDigest": data ? "CRC32C" : "None"]
            targets.append(LIOTargetSpec(iqn: iqn(digestName(header: header, data: data)), luns: lun(16 << 20), parameters: parameters))
        }
        let pool = (0..<datastoreLUNs).map { LUNSpec.file($0, size: datastoreLUNSize, thinProvisioning: true) }
        targets.append(LIOTargetSpec(iqn: iqn(datastoreTarget), luns: pool))
        return LIOConfiguration(targets: targets, discoveryCHAP: discoveryCHAP)
    }()

    /// Runs `body` with the suite's guest, booting it on first use.
    public static func with<Result>(_ body: (LIOTarget) async throws -> Result) async throws -> Result {
        try await withSharedLIO(configuration, body)
    }
}
