// Renders istgt 0.4's istgt.conf and auth.conf for one test instance: one
// portal group on the test's port, initiators from 127.0.0.0/8 only, one
// [LogicalUnitN] section per target and one AuthGroup per CHAP target.

struct IstgtConfigFile {
    let directory: ScratchDirectory
    let port: Int
    let unitControlPort: Int
    let targets: [IstgtTargetSpec]
    /// Backing file per target and LUN, in the order of `targets`.
    let backingFiles: [[String]]
    /// The unit-control portal (istgtcontrol) always requires mutual CHAP;
    /// random credentials keep it closed to everything but a test that asks.
    let unitControlCHAP: CHAPAuthentication
    /// More loopback addresses the data portal group listens on, at `port`.
    var extraPortalHosts: [String] = []

    var mainFile: String {
        var text = """
        # Written by vdiskd's TestSupport for one test; deleted when it stops.
        [Global]
          NodeBase "iqn.2026-11.vdiskd.test"
          PidFile \(directory.file("istgt.pid"))
          AuthFile \(directory.file("auth.conf"))
          MediaDirectory \(directory.path)
          LogFacility "local7"
          Timeout 30
          NopInInterval 20
          DiscoveryAuthMethod Auto
          MaxSessions 16
          MaxConnections 4
          MaxR2T 32
          MaxOutstandingR2T 16
          DefaultTime2Wait 2
          DefaultTime2Retain 60
          FirstBurstLength 262144
          MaxBurstLength 1048576
          MaxRecvDataSegmentLength 262144
          InitialR2T Yes
          ImmediateData Yes
          DataPDUInOrder Yes
          DataSequenceInOrder Yes
          ErrorRecoveryLevel 0

        [UnitControl]
          AuthMethod CHAP Mutual
          AuthGroup AuthGroup10000
          Portal UC1 \(LoopbackPort.host):\(unitControlPort)
          Netmask 127.0.0.1

        [PortalGroup1]
          Portal DA1 \(LoopbackPort.host):\(port)
        \(extraPortalHosts.enumerated().map { "  Portal DA\($0.offset + 2) \($0.element):\(port)\n" }.joined())
        [InitiatorGroup1]
          InitiatorName "ALL"
          Netmask 127.0.0.0/8

        """
        for (index, target) in targets.enumerated() {
            let authentication = switch target.chap {
            case nil: "None"
            case .some(let chap) where chap.isMutual: "CHAP Mutual"
            case .some: "CHAP"
            }
            text += """

            [LogicalUnit\(index + 1)]
              TargetName \(target.iqn)
              Mapping PortalGroup1 InitiatorGroup1
              AuthMethod \(authentication)

            """
            if target.chap != nil {
                text += "  AuthGroup AuthGroup\(index + 1)\n"
            }
            text += "  UseDigest Auto\n  UnitType Disk\n"
            for (lun, file) in zip(target.luns, backingFiles[index]) {
                text += "  LUN\(lun.number) Storage \(file) Auto\n"
            }
        }
        return text
    }

    var authFile: String {
        var text = "# CHAP secrets for the istgt.conf beside this file.\n"
        for (index, target) in targets.enumerated() {
            if let chap = target.chap {
                text += "[AuthGroup\(index + 1)]\n  Auth \(Self.authLine(chap))\n"
            }
        }
        text += "[AuthGroup10000]\n  Auth \(Self.authLine(unitControlCHAP))\n"
        return text
    }

    private static func authLine(_ chap: CHAPAuthentication) -> String {
        var line = "\"\(chap.initiator.user)\" \"\(chap.initiator.secret)\""
        if let target = chap.target {
            line += " \"\(target.user)\" \"\(target.secret)\""
        }
        return line
    }
}
