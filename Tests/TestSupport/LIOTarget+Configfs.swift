// The configfs changes that build a configuration's targets in the guest, and the requests a
// test can send a running guest (read an attribute, change an ALUA state).

extension LIOTarget {
    /// One configfs change, relative to /sys/kernel/config/target.
    enum ConfigfsChange: Sendable, CustomStringConvertible {
        case mkdir(String)
        case write(String, String)
        case link(String, to: String)

        var description: String {
            switch self {
            case .mkdir(let path): "mkdir \(path)"
            case .write(let path, let value): "write '\(path.contains("password") ? "********" : value)' to \(path)"
            case .link(let path, let target): "link \(path) -> \(target)"
            }
        }
    }

    /// The backstore directory of `lun` of the `targetIndex`th target, under core/.
    static func backstore(_ spec: LIOTargetSpec, targetIndex: Int, lun: Int) -> String {
        "core/\(spec.backstore.hba)/t\(targetIndex + 1)-lun\(lun)"
    }

    /// The virtio serial (and host file stem) of a LUN's disk.
    static func diskSerial(targetIndex: Int, lun: Int) -> String {
        "vdiskd-t\(targetIndex + 1)-lun\(lun)"
    }

    /// The VPD unit serial: stable across boots of the same configuration, so the LUN keeps its
    /// identity (VPD 0x80 and the NAA designator LIO derives from it) over a guest reboot.
    public static func unitSerial(iqn: String, lun: Int) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "\(iqn)/\(lun)".utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// Every change for `configuration`, in an order LIO accepts; `devices` maps each disk
    /// serial to the guest's block device.
    static func changes(for configuration: LIOConfiguration, devices: [String: String]) -> [ConfigfsChange] {
        var changes: [ConfigfsChange] = []
        var hbas: Set<String> = []
        var standbyPortal = false
        for (index, spec) in configuration.targets.enumerated() {
            let target = "iscsi/\(spec.iqn)"
            changes.append(.mkdir(target))
            let tpgs = spec.standbyPortGroup ? [1, 2] : [1]
            for tpg in tpgs {
                changes.append(.mkdir("\(target)/tpgt_\(tpg)"))
            }
            for lun in spec.luns {
                let backstore = backstore(spec, targetIndex: index, lun: lun.number)
                if hbas.insert(spec.backstore.hba).inserted {
                    changes.append(.mkdir("core/\(spec.backstore.hba)"))
                }
                let device = devices[diskSerial(targetIndex: index, lun: lun.number)] ?? "/dev/missing"
                changes += [
                    .mkdir(backstore),
                    .write("\(backstore)/control", spec.backstore.control(device: device)),
                    // Before enable: the serial is fixed once the device is configured.
                    .write("\(backstore)/wwn/vpd_unit_serial", unitSerial(iqn: spec.iqn, lun: lun.number)),
                    .write("\(backstore)/enable", "1"),
                ]
                if lun.thinProvisioning {
                    changes += [.write("\(backstore)/attrib/emulate_tpu", "1"), .write("\(backstore)/attrib/emulate_tpws", "1")]
                }
                if spec.standbyPortGroup {
                    let group = "\(backstore)/alua/\(LIOTargetSpec.standbyGroup)"
                    changes += [
                        .mkdir(group),
                        .write("\(group)/tg_pt_gp_id", String(LIOTargetSpec.standbyGroupID)),
                        .write("\(group)/alua_access_state", String(ALUAState.standby.rawValue)),
                    ]
                }
                for tpg in tpgs {
                    let port = "\(target)/tpgt_\(tpg)/lun/lun_\(lun.number)"
                    changes += [.mkdir(port), .link("\(port)/backstore", to: backstore)]
                    if tpg == 2 {
                        changes.append(.write("\(port)/alua_tg_pt_gp", LIOTargetSpec.standbyGroup))
                    }
                }
            }
            for tpg in tpgs {
                changes += tpgChanges(spec, tpg: "\(target)/tpgt_\(tpg)", portal: tpg == 1 ? (spec.listens ? guestPorts[0] : nil) : guestPorts[1])
            }
            standbyPortal = standbyPortal || spec.standbyPortGroup
        }
        if let discovery = configuration.discoveryCHAP {
            changes += [
                .write("iscsi/discovery_auth/userid", discovery.user),
                .write("iscsi/discovery_auth/password", discovery.secret),
                .write("iscsi/discovery_auth/enforce_discovery_auth", "1"),
            ]
        }
        return changes
    }

    /// Access, authentication, parameters and portal of one TPG, ending with enable.
    private static func tpgChanges(_ spec: LIOTargetSpec, tpg: String, portal: Int?) -> [ConfigfsChange] {
        var changes: [ConfigfsChange] = []
        func account(_ auth: String) {
            if let chap = spec.chap {
                changes += [.write("\(auth)/userid", chap.initiator.user), .write("\(auth)/password", chap.initiator.secret)]
                if let target = chap.target {
                    changes += [.write("\(auth)/userid_mutual", target.user), .write("\(auth)/password_mutual", target.secret)]
                }
            }
        }
        if let initiators = spec.allowedInitiators {
            changes.append(.write("\(tpg)/attrib/generate_node_acls", "0"))
            for initiator in initiators {
                let acl = "\(tpg)/acls/\(initiator)"
                changes.append(.mkdir(acl))
                for lun in spec.luns {
                    changes += [.mkdir("\(acl)/lun_\(lun.number)"), .link("\(acl)/lun_\(lun.number)/port", to: "\(tpg)/lun/lun_\(lun.number)")]
                }
                account("\(acl)/auth")
            }
        } else {
            // Demo mode: LIO makes an ACL for each initiator as it logs in, with the TPG's credentials.
            changes += [
                .write("\(tpg)/attrib/generate_node_acls", "1"),
                .write("\(tpg)/attrib/demo_mode_write_protect", "0"),
                .write("\(tpg)/attrib/cache_dynamic_acls", "1"),
            ]
            account("\(tpg)/auth")
        }
        changes.append(.write("\(tpg)/attrib/authentication", spec.chap == nil ? "0" : "1"))
        for key in spec.parameters.keys.sorted() {
            changes.append(.write("\(tpg)/param/\(key)", spec.parameters[key]!))
        }
        if let portal {
            changes.append(.mkdir("\(tpg)/np/0.0.0.0:\(portal)"))
        }
        changes.append(.write("\(tpg)/enable", "1"))
        return changes
    }

    /// The guest's iSCSI ports: TPG 1 listens on the first, standby TPGs on the second.
    static let guestPorts = [3260, 3261]

    // MARK: Requests from tests

    /// Writes `value` to the configfs attribute at `path` (relative to
    /// /sys/kernel/config/target) in the running guest; a refused write throws the kernel's reason.
    public func writeConfigfs(_ value: String, to path: String) async throws {
        try await apply(.write(path, value))
    }

    /// The content of the configfs attribute at `path`, line breaks turned into spaces.
    public func readConfigfs(_ path: String) async throws -> String {
        switch try await control.request("read", path, timeout: Self.requestTimeout) {
        case .ok(let text): return text.trimmingCharacters(in: .whitespaces)
        case .failed(let reason), .booted(let reason):
            throw TestSupportError(.commandFailed, "LIO guest: reading configfs \(path) failed: \(reason)")
        }
    }

    /// Moves an ALUA target port group of `lun` of `iqn` to `state`: `default_tg_pt_gp` holds
    /// TPG 1's port, `LIOTargetSpec.standbyGroup` TPG 2's. LIO queues ASYMMETRIC ACCESS STATE
    /// CHANGED for every I_T nexus through the group's ports.
    public func setPortGroupState(_ state: ALUAState, group: String, iqn: String, lun: Int) async throws {
        guard let index = configuration.targets.firstIndex(where: { $0.iqn == iqn }) else {
            throw TestSupportError(.invalidConfiguration, "this LIO guest serves no target \(iqn)")
        }
        let backstore = Self.backstore(configuration.targets[index], targetIndex: index, lun: lun)
        try await writeConfigfs(String(state.rawValue), to: "\(backstore)/alua/\(group)/alua_access_state")
    }

    static let requestTimeout: Duration = .seconds(30)

    func apply(_ change: ConfigfsChange) async throws {
        let answer: LIOControlChannel.Answer
        switch change {
        case .mkdir(let path): answer = try await control.request("mkdir", path, timeout: Self.requestTimeout)
        case .write(let path, let value): answer = try await control.request("write", path, value, timeout: Self.requestTimeout)
        case .link(let path, let target): answer = try await control.request("link", path, target, timeout: Self.requestTimeout)
        }
        if case .failed(let reason) = answer {
            throw TestSupportError(.startFailed, "LIO guest: configfs \(change) failed: \(reason)")
        }
    }
}
