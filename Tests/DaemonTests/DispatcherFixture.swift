// A dispatcher over the minimal config, for method tests without sockets.

import Daemon
import Logging

enum DispatcherFixture {
    static let root = PeerCredentials(pid: 1, uid: 0, gid: 0)
    static let nobody = PeerCredentials(pid: 2, uid: 65534, gid: 65534)

    static func make(config: DaemonConfig? = nil, controlGroup: String? = nil) throws -> (ControlDispatcher, DaemonState) {
        let loaded = try config ?? ConfigFixtures.parse(ConfigFixtures.minimal)
        let state = DaemonState(config: loaded, logLevel: LogLevelControl(.info))
        state.setService("control-socket", .running)
        let logger = Logger(label: "test")
        let dispatcher = ControlDispatcher(
            state: state,
            access: ControlAccess(mutatingGroup: controlGroup),
            reloader: ConfigReloader(state: state, logger: logger),
            logger: logger
        )
        return (dispatcher, state)
    }
}
