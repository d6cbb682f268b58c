// A path on the native engine as the multipath tests open it: recovery off (the Paths layer
// replaces the session), a keepalive, one ISID for the path's life, unit attentions handed on.

import ISCSI
import ISCSIAddress
import NIOCore
import Paths

enum NativePath {
    static func configuration(_ name: String, _ url: ISCSITargetURL, keepalive: TimeAmount, loginTimeout: TimeAmount) throws -> PathConfiguration {
        var session = ISCSISessionConfiguration(portal: url.portal, targetName: url.targetName, authentication: try url.authentication())
        session.isid = ISCSISessionConfiguration.randomISID()
        session.recoveryTimeout = .zero
        session.keepaliveInterval = keepalive
        session.keepaliveTimeout = keepalive
        session.loginTimeout = loginTimeout
        session.connectTimeout = loginTimeout
        return PathConfiguration(name: name, destination: "\(url.portal.host):\(url.portal.port)") { [session] onUnitAttention in
            let lun = try await ISCSILUN.connect(url, configuration: session)
            lun.forwardUnitAttentions(to: onUnitAttention)
            return lun
        }
    }
}
