// Who this vdiskctl process is on the datastore (host id and name) and its heartbeat
// timing; see docs/DATASTORE.md, "Host identity".

import ArgumentParser
import Datastore
import Foundation

struct HostOptions: ParsableArguments {
    @Option(name: .customLong("host-id"), help: ArgumentHelp(
        "The host UUID to mount as. Default: a new random UUID for every run, so two vdiskctl processes never share a heartbeat slot. Reuse an id only to recover that host's own crashed mount, never from two processes at once.",
        valueName: "uuid"))
    var hostID: String?

    @Option(help: ArgumentHelp("The host name other hosts see in locks and heartbeats (default: HOSTNAME/vdiskctl[PID]).", valueName: "name"))
    var hostName: String?

    @Option(help: "How often the heartbeat is renewed while the command runs.")
    var heartbeatInterval = DurationArgument(.seconds(3))

    @Option(help: "How long a host's heartbeat may stand still before it is presumed dead and its locks may be broken.")
    var lease = DurationArgument(.seconds(16))

    @Option(help: "How long to keep retrying a disk locked by another host; a lock whose holder stays silent for a whole lease is broken in that time.")
    var lockWait = DurationArgument(.zero)

    func validate() throws {
        if let hostID, UUID(uuidString: hostID) == nil {
            throw ValidationError("--host-id '\(hostID)' is not a UUID")
        }
        guard heartbeatInterval.duration > .zero, lease.duration > heartbeatInterval.duration * 2 else {
            throw ValidationError("--lease (\(lease)) must exceed twice --heartbeat-interval (\(heartbeatInterval)), which must be positive")
        }
    }

    var identity: HostIdentity {
        let uuid = hostID.flatMap(UUID.init(uuidString:)) ?? UUID()
        let name = hostName ?? "\(ProcessInfo.processInfo.hostName)/vdiskctl[\(ProcessInfo.processInfo.processIdentifier)]"
        return HostIdentity(uuid: uuid, name: name)
    }

    var datastoreOptions: DatastoreOptions {
        var options = DatastoreOptions()
        options.heartbeatInterval = heartbeatInterval.duration
        options.lease = lease.duration
        return options
    }
}
