// SendTargets discovery over a discovery session (RFC 7143 §4.3, appendix C).

import Logging

/// Asks a portal which targets it offers.
public enum ISCSIDiscovery {
    /// Logs in to `configuration.portal` as a discovery session, sends SendTargets=All,
    /// logs out, and returns the targets. A target listed without any TargetAddress is
    /// reachable through the portal we asked (RFC 7143 §13.3), and is returned with it.
    public static func sendTargets(
        _ configuration: ISCSISessionConfiguration,
        logger: Logger = Logger(label: "vdisk.iscsi")
    ) async throws -> [DiscoveredTarget] {
        var configuration = configuration
        configuration.targetName = nil
        let session = try await ISCSISession.connect(configuration, logger: logger)
        let answer: [TextKeyValue]
        do {
            answer = try await session.text([TextKeyValue("SendTargets", "All")])
        } catch {
            try? await session.logout()
            throw error
        }
        try? await session.logout()
        let portal = session.portal
        return try SendTargetsParser.parse(answer).map { target in
            guard target.portals.isEmpty else { return target }
            return DiscoveredTarget(
                name: target.name,
                portals: [TargetPortal(host: portal.host, port: portal.port, portalGroupTag: session.targetPortalGroupTag)]
            )
        }
    }
}
