// The running half of the list views: what an open session, datastore, disk or export says
// about itself right now, added to its configured entry.

import Control
import Datastore
import Export
import Foundation
import ISCSI

extension ControlViews {
    /// The session's portal and the parameters login negotiated; nil when the target is not open.
    static func session(of lun: ISCSILUN?) -> JSONValue? {
        guard let lun else { return nil }
        let session = lun.session
        let negotiated = session.negotiated
        return .object([
            "portal": .string("\(session.portal.host):\(session.portal.port)"),
            "target_portal_group_tag": session.targetPortalGroupTag.map { .int(Int($0)) } ?? .null,
            "header_digest": .string(negotiated.headerDigest.rawValue),
            "data_digest": .string(negotiated.dataDigest.rawValue),
            "max_recv_data_segment_length": .int(negotiated.maxRecvDataSegmentLength),
            "target_max_recv_data_segment_length": .int(negotiated.targetMaxRecvDataSegmentLength),
            "max_burst_length": .int(negotiated.maxBurstLength),
            "first_burst_length": .int(negotiated.firstBurstLength),
            "immediate_data": .bool(negotiated.immediateData),
            "initial_r2t": .bool(negotiated.initialR2T),
            "max_outstanding_r2t": .int(negotiated.maxOutstandingR2T),
            "error_recovery_level": .int(negotiated.errorRecoveryLevel),
            "block_size": .int(lun.geometry.blockSize),
            "blocks": .int(Int(lun.geometry.blockCount)),
        ])
    }

    /// Every configured target with its session, the session's command window and its last event.
    static func targets(state: DaemonState) async -> JSONValue {
        var entries: [JSONValue] = []
        for settings in state.config.targets {
            guard case .object(var fields) = target(settings, state: state) else { continue }
            if let lun = state.storage.lun(settings.name), let window = try? await lun.session.commandWindow() {
                fields["command_window"] = .object([
                    "cmd_sn": .int(Int(window.cmdSN.rawValue)),
                    "exp_cmd_sn": .int(Int(window.expCmdSN.rawValue)),
                    "max_cmd_sn": .int(Int(window.maxCmdSN.rawValue)),
                    "available": .int(window.available),
                ])
            }
            fields["last_event"] = state.storage.lastEvent(settings.name).map { .string($0) } ?? .null
            entries.append(.object(fields))
        }
        return .array(entries)
    }

    /// A mounted datastore's identity on disk and this host's slot in it.
    static func mount(of store: Datastore?) -> JSONValue? {
        guard let store else { return nil }
        return .object([
            "label": .string(store.label),
            "uuid": .string(store.uuid.uuidString.lowercased()),
            "slot": .int(store.slot),
            "file_block_size": .int(store.fileBlockSize),
            "fenced": store.fenceReason.map { .string($0) } ?? .null,
        ])
    }

    /// An open disk's identity and size.
    static func opened(_ disk: VirtualDisk?) -> JSONValue? {
        guard let disk else { return nil }
        let info = disk.info
        return .object([
            "uuid": .string(info.uuid.uuidString.lowercased()),
            "kind": .string(info.kind.description),
            "size_bytes": .int(Int(info.size)),
            "allocated_bytes": .int(Int(info.allocatedBytes)),
        ])
    }

    /// The sessions logged in to an export: who, with which ISID, through which portal.
    static func sessions(of export: ServedExport?) -> JSONValue {
        .array((export?.sessions ?? []).map { session in
            .object([
                "initiator": .string(session.initiatorName),
                "isid": .string(session.isidHex),
                "target": session.targetName.map { .string($0) } ?? .null,
                "tsih": .int(Int(session.tsih)),
                "portal": .string(session.portal),
                "initiator_address": .string(session.initiatorAddress),
                "connections": .int(session.connections),
            ])
        })
    }
}
