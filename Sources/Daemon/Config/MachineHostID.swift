// The default host identity on a datastore: an id of this machine's own, derived from
// /etc/machine-id, so two hosts installed from the same example config never share one.

import Crypto
import Foundation
import ISCSI

/// This machine's vdiskd host id, derived the way systemd derives application-specific ids
/// (`sd_id128_get_machine_app_specific`, `systemd-id128 -a`): HMAC-SHA256 keyed with the
/// 128-bit machine id over vdiskd's application id, the first 16 bytes made a version 4 UUID.
/// The machine id itself never leaves the machine this way: it cannot be read back from the
/// host id, which every host on a datastore sees.
public enum MachineHostID {
    /// vdiskd's application id (made once with `systemd-id128 new`); changing it changes
    /// the host id of every host that has no `host_uuid`, so it never changes.
    static let applicationID: [UInt8] = TextValue.binary("0x3b26735fd56f42c4849ede6ea004f788")!

    public static let machineIDPath = "/etc/machine-id"

    /// Why no host id could be derived.
    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String
    }

    /// The host id of the machine whose machine-id file is at `path`.
    public static func derive(machineIDAt path: String = machineIDPath) throws(Unavailable) -> UUID {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read" : "does not exist"
            throw Unavailable(description: "\(path) \(reason)")
        }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return try derive(machineID: text, source: path)
    }

    /// The host id for the machine id `text` (32 hexadecimal digits, as machine-id(5) holds it).
    public static func derive(machineID text: String, source: String = machineIDPath) throws(Unavailable) -> UUID {
        // systemd leaves the file empty or "uninitialized" until first boot has written an id.
        guard !text.isEmpty, text != "uninitialized" else {
            throw Unavailable(description: "\(source) holds no machine id yet (\(text.isEmpty ? "empty" : text))")
        }
        guard text.utf8.count == 32, let machineID = TextValue.binary("0x" + text), machineID.count == 16, machineID.contains(where: { $0 != 0 }) else {
            throw Unavailable(description: "\(source) does not hold a machine id (32 hexadecimal digits, not all zero): \"\(text.prefix(40))\"")
        }
        let code = HMAC<SHA256>.authenticationCode(for: applicationID, using: SymmetricKey(data: machineID))
        var id = Array(code.prefix(16))
        id[6] = (id[6] & 0x0F) | 0x40
        id[8] = (id[8] & 0x3F) | 0x80
        return UUID(uuid: (id[0], id[1], id[2], id[3], id[4], id[5], id[6], id[7],
                           id[8], id[9], id[10], id[11], id[12], id[13], id[14], id[15]))
    }
}
