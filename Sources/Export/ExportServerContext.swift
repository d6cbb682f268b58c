// What every connection of one export server shares: targets, sessions, settings and
// the portals SendTargets reports.

import ISCSI
import ISCSIAddress
import Logging
import NIOConcurrencyHelpers

/// Shared, thread-safe state handed to each connection handler.
final class ExportServerContext: Sendable {
    let targets: [String: ExportTarget]
    let configuration: ExportConfiguration
    let login: TargetLoginConfiguration
    let registry: ExportSessionRegistry
    let logger: Logger
    /// Write data buffered across every connection.
    let writeBudget: ExportWriteBudget
    /// Failed logins per source address.
    let loginFailures: LoginFailureThrottle
    /// Connections waiting to log in, the descriptor reserve, and the refusals of both.
    let admission: ExportAdmission
    /// Bound addresses, known once the listeners are up.
    private let portals = NIOLockedValueBox<[ISCSIEndpoint]>([])
    /// Commands handed to logical units and not yet finished, across connections (for draining).
    let commandsInFlight = NIOLockedValueBox(0)
    /// Set when shutdown begins: new commands are answered BUSY instead of started.
    private let draining = NIOLockedValueBox(false)

    init(targets: [ExportTarget], configuration: ExportConfiguration, logger: Logger) {
        self.targets = Dictionary(targets.map { ($0.name.lowercased(), $0) }, uniquingKeysWith: { first, _ in first })
        self.configuration = configuration
        self.login = TargetLoginConfiguration(
            targets: Dictionary(targets.map { ($0.name, $0.access) }, uniquingKeysWith: { first, _ in first }),
            discoveryPolicy: configuration.discovery.policy(for: targets),
            limits: configuration.limits,
            commandWindow: configuration.commandWindow
        )
        self.registry = ExportSessionRegistry(
            maximumSessions: configuration.maximumSessions, maximumDiscoverySessions: configuration.maximumDiscoverySessions,
            maximumSessionsPerInitiator: configuration.maximumSessionsPerInitiator
        )
        self.admission = ExportAdmission(
            maximumPendingLogins: configuration.maximumPendingLogins,
            maximumPendingLoginsPerSource: configuration.maximumPendingLoginsPerSource,
            descriptorReserve: configuration.descriptorReserve, logger: logger
        )
        self.logger = logger
        self.writeBudget = ExportWriteBudget(limit: configuration.exportWriteBudget)
        self.loginFailures = LoginFailureThrottle(maximumFailures: configuration.maximumFailedLogins, window: configuration.failedLoginWindow)
    }

    func target(named name: String?) -> ExportTarget? {
        name.flatMap { targets[$0.lowercased()] }
    }

    var isDraining: Bool { draining.withLockedValue { $0 } }

    func startDraining() {
        draining.withLockedValue { $0 = true }
    }

    func setPortals(_ bound: [ISCSIEndpoint]) {
        portals.withLockedValue { $0 = bound }
    }

    /// The SendTargets answer (RFC 7143 §12.1): "All" lists every target (only
    /// `current` inside a normal session), an IQN lists that target. Only targets the
    /// initiator may log in to are listed: its name passes their ACL, and they need no
    /// CHAP or the CHAP user it proved (`chapUser`) is theirs.
    func sendTargets(query: String, current: String?, initiator: String, chapUser: String?) -> [TextKeyValue] {
        let bound = portals.withLockedValue { $0 }
        let names: [String]
        switch query {
        case "All": names = targets.values.map(\.name).sorted()
        case "": names = current.map { [$0] } ?? []
        default: names = targets[query.lowercased()].map { [$0.name] } ?? []
        }
        var pairs: [TextKeyValue] = []
        for name in names {
            // Targets whose ACL shuts this initiator out are not advertised to it.
            guard let target = targets[name.lowercased()], target.access.allows(initiator: initiator) else { continue }
            if target.access.requiresCHAP, !target.access.chapAccounts.contains(where: { $0.credentials.user == chapUser }) { continue }
            pairs.append(TextKeyValue("TargetName", target.name))
            for portal in bound {
                pairs.append(TextKeyValue("TargetAddress", "\(portal),\(login.portalGroupTag)"))
            }
        }
        return pairs
    }
}
