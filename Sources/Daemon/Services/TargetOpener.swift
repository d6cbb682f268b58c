// How the daemon reaches one configured target's LUN: one native session that recovers itself,
// one libiscsi session, or the Paths layer over several paths on either engine.

import BlockDevice
import Foundation
import ISCSI
import ISCSIAddress
import LibISCSI
import Logging
import NIOCore
import NIOPosix
import Paths
import SCSI

/// Builds the sessions a `[[target]]` asks for.
struct TargetOpener {
    let target: TargetSettings
    let secrets: [String: String]
    let logger: Logger

    /// The target's URL at `portal`, with its CHAP settings and secrets.
    func url(at portal: ISCSIEndpoint) -> ISCSITargetURL {
        let secret = target.chapSecret.flatMap { secrets[$0] }
        let mutualSecret = target.mutualChapSecret.flatMap { secrets[$0] }
        return ISCSITargetURL(
            endpoint: portal,
            targetName: target.iqn,
            lun: UInt64(target.lun),
            user: target.chapUser,
            password: secret,
            targetUser: mutualSecret == nil ? nil : target.mutualChapUser,
            targetPassword: mutualSecret,
            chapAlgorithms: target.chapAlgorithms?.map(\.name)
        )
    }

    /// The native engine's session settings for `url`: the target's timeouts and keepalive;
    /// `recovers` keeps the session's own recovery (a single-portal target) or turns it off
    /// (a path, which the Paths layer replaces itself).
    func nativeSession(_ url: ISCSITargetURL, source: ConnectionSource?, isid: UInt64?, recovers: Bool) throws -> ISCSISessionConfiguration {
        var session = ISCSISessionConfiguration(portal: url.portal, targetName: url.targetName, authentication: try url.authentication())
        // Bounded so an unreachable portal fails this target instead of holding READY back forever.
        session.connectTimeout = .seconds(Int64(target.loginTimeoutSeconds))
        session.loginTimeout = .seconds(Int64(target.loginTimeoutSeconds))
        session.commandTimeout = .seconds(Int64(target.commandTimeoutSeconds))
        session.keepaliveInterval = .seconds(Int64(target.nopIntervalSeconds))
        session.keepaliveTimeout = .seconds(Int64(target.nopTimeoutSeconds))
        session.recoveryTimeout = recovers ? .seconds(Int64(target.recoveryTimeoutSeconds)) : .zero
        if let isid { session.isid = isid }
        session.source = source
        return session
    }

    /// The libiscsi engine's settings: same timeouts and keepalive. A path never reconnects
    /// by itself (a lost session fails its commands at once and the Paths layer moves them);
    /// a single-portal target lets libiscsi log in again, as the native engine's recovery does.
    func libiscsiConfiguration(_ url: ISCSITargetURL, source: ConnectionSource?, isPath: Bool) -> LibISCSIConfiguration {
        var chap: LibISCSIConfiguration.CHAP?
        if let user = url.user, let password = url.password {
            chap = LibISCSIConfiguration.CHAP(user: user, secret: password, targetUser: url.targetUser, targetSecret: url.targetPassword)
        }
        return LibISCSIConfiguration(
            initiatorName: ISCSISessionConfiguration.defaultInitiatorName,
            chap: chap,
            loginTimeout: .seconds(Int64(target.loginTimeoutSeconds)),
            commandTimeout: .seconds(Int64(target.commandTimeoutSeconds)),
            nopInterval: .seconds(Int64(target.nopIntervalSeconds)),
            nopTimeout: .seconds(Int64(target.nopTimeoutSeconds)),
            autoReconnect: !isPath,
            source: source
        )
    }

    /// One path as the Paths layer opens it. The ISID is fixed for the path's life, so every
    /// new session of a path is the same I_T nexus (its registrations and reservations hold).
    func path(_ settings: PathSettings, on eventLoop: any EventLoop) -> PathConfiguration {
        let url = url(at: settings.portal)
        let isid = ISCSISessionConfiguration.randomISID()
        let opener = self
        return PathConfiguration(name: settings.name, source: settings.connectionSource.map { "\($0)" }, destination: "\(settings.portal)") { onUnitAttention in
            switch opener.target.engine {
            case .native:
                let session = try opener.nativeSession(url, source: settings.connectionSource, isid: isid, recovers: false)
                let lun = try await ISCSILUN.connect(url, configuration: session, eventLoopGroup: eventLoop, logger: opener.logger)
                lun.forwardUnitAttentions(to: onUnitAttention)
                return lun
            case .libiscsi:
                return try await LibISCSIDevice.connect(url: url, configuration: opener.libiscsiConfiguration(url, source: settings.connectionSource, isPath: true), logger: opener.logger)
            }
        }
    }

    /// The target's paths: those configured and, with `discover_paths`, one more for every
    /// portal a SendTargets answer lists for the target's IQN, asked through every configured
    /// portal (tgt 1.0.85 lists only the portal it was asked through; istgt and LIO list every
    /// portal of the target). A portal that cannot be asked is logged and skipped.
    func paths() async -> [PathSettings] {
        var paths = target.configuredPaths
        guard target.discoverPaths else { return paths }
        for path in target.configuredPaths {
            let url = url(at: path.portal)
            do {
                var session = try nativeSession(url, source: path.connectionSource, isid: nil, recovers: false)
                session.targetName = nil
                let targets = try await ISCSIDiscovery.sendTargets(session, logger: logger)
                let dialled = TargetPortal(host: path.portal.host, port: path.portal.port)
                for target in targets where target.name == self.target.iqn {
                    for portal in target.portals(defaultingTo: dialled) {
                        let endpoint = ISCSIEndpoint(host: portal.host, port: portal.port)
                        guard !paths.contains(where: { $0.portal == endpoint && $0.source == nil }) else { continue }
                        paths.append(PathSettings(name: "path\(paths.count)", portal: endpoint))
                    }
                }
            } catch {
                logger.warning("path discovery failed", metadata: ["vdiskd.target": "\(target.name)", "vdiskd.portal": "\(path.portal)", "vdiskd.error": "\(error)"])
            }
        }
        logger.info("paths after discovery", metadata: ["vdiskd.target": "\(target.name)", "vdiskd.paths": "\(paths.map(\.route))"])
        return paths
    }

    /// The Paths layer's settings from the target's.
    var multipathOptions: MultipathOptions {
        var options = MultipathOptions()
        options.policy = target.pathPolicy
        options.probeInterval = .seconds(target.probeIntervalSeconds)
        options.apdTimeout = .seconds(target.apdTimeoutSeconds)
        return options
    }
}
