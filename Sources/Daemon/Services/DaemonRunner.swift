// Starts the daemon from a config: validate, check ports, then run every part in one ServiceGroup.

import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The daemon's start-up order. Validation and the port check come first and fail the start with
/// exit status 1, so a bad config never reaches a target or a datastore.
public struct DaemonRunner: Sendable {
    public var configPath: String
    public var environment: [String: String]
    public var logLevel: LogLevelControl
    public var logger: Logger
    /// Where the daemon's metrics go; `vdiskd` passes the one it bootstrapped `MetricsSystem` with.
    public var metrics: DaemonMetrics

    public init(configPath: String, environment: [String: String], logLevel: LogLevelControl, logger: Logger, metrics: DaemonMetrics = DaemonMetrics()) {
        self.configPath = configPath
        self.environment = environment
        self.logLevel = logLevel
        self.logger = logger
        self.metrics = metrics
    }

    /// Runs until SIGTERM or SIGINT; returns the process exit status.
    public func run() async -> Int32 {
        let fileConfig: DaemonConfig
        do throws(ConfigInvalid) {
            fileConfig = try ConfigLoader.load(path: configPath)
            let problems = HostCheck.problems(in: fileConfig)
            guard problems.isEmpty else { throw ConfigInvalid(errors: problems) }
            try HostCheck.makeDirectories(for: fileConfig)
        } catch {
            for problem in error.errors { logger.critical("config refused: \(problem)") }
            return 1
        }
        // The disks and exports changed through the control socket before the last stop run again,
        // unless the file has since changed what they changed (LiveChangeRecord says how).
        var record = LiveChangeRecord()
        do {
            record = try LiveChangeRecord.load(directory: fileConfig.daemon.stateDirectory)
        } catch {
            logger.error("starting from the config file alone: the live changes cannot be read", metadata: ["vdiskd.error": "\(error)"])
        }
        let (config, kept, dropped) = record.applied(to: fileConfig)
        for reason in dropped { logger.notice("a live change gives way to the config file: \(reason)") }
        if !record.isEmpty { logger.info("live changes kept from before", metadata: ["vdiskd.disks": "\(kept.disks.count)", "vdiskd.exports": "\(kept.exports.count)"]) }
        logLevel.set(config.daemon.logLevel)
        let eventLoopGroup = MultiThreadedEventLoopGroup.singleton
        // The file's ports only: an export kept from a live change whose port is taken now fails
        // alone, as any export does, rather than stopping the start.
        let portErrors = await ListenPortCheck.check(fileConfig, group: eventLoopGroup)
        guard portErrors.isEmpty else {
            for problem in portErrors { logger.critical("config refused: \(problem)") }
            return 1
        }

        let notifier = SystemdNotifier(environment: environment)
        let state = DaemonState(
            config: config, logLevel: logLevel, metrics: metrics, notifier: notifier,
            fileConfig: fileConfig, liveChanges: kept
        )
        for target in config.targets { state.setService("target:\(target.name)", .starting) }
        for datastore in config.datastores { state.setService("datastore:\(datastore.name)", .starting) }
        for disk in config.disks { state.setService("disk:\(disk.reference)", .starting) }
        for export in config.exports {
            state.setService("export:\(export.name)", .starting)
            metrics.exportSessions(export: export.name).record(0)
        }

        // READY once the control socket listens and, storage opened, every export serves (or has
        // failed, which `status` then shows). The metrics listener, when configured, is one more
        // part: READY means it is bound (or failed).
        let gate = ReadinessGate(parts: config.daemon.metricsListen == nil ? 2 : 3) {
            let serving = state.services.filter { $0.name.hasPrefix("export:") && $0.state == .running }.count
            notifier.notify("READY=1\nSTATUS=control socket ready at \(config.daemon.controlSocket); storage opened; \(serving) of \(config.exports.count) exports serving")
        }
        let reloader = ConfigReloader(state: state, logger: logger, live: LiveChanges(state: state, group: eventLoopGroup, logger: logger))
        if kept != record { reloader.live.save(kept) }
        let dispatcher = ControlDispatcher(state: state, access: ControlAccess(mutatingGroup: config.daemon.controlGroup), reloader: reloader, logger: logger)
        let control = ControlServer(
            path: config.daemon.controlSocket,
            socketGroup: config.daemon.socketGroup,
            dispatcher: dispatcher,
            state: state,
            eventLoopGroup: eventLoopGroup,
            logger: logger,
            onListening: { gate.partReady() }
        )
        // ServiceGroup shuts services down in reverse order, one after the other: STOPPING=1 goes
        // out first, then the control socket closes, the exports drain and log their sessions
        // out, storage closes (disks, datastores, sessions), and the watchdog pings to the end.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let interval = SystemdNotifier.watchdogInterval(environment: environment) {
            let probe = EventLoopLivenessProbe(loop: eventLoopGroup.next(), deadline: interval / 4)
            services.append(.init(service: WatchdogService(interval: interval, notifier: notifier, logger: logger, probe: probe.check)))
            state.setService("watchdog", .running)
        }
        services += [
            .init(service: StorageService(config: config, state: state, group: eventLoopGroup, logger: logger)),
            .init(service: ExportService(state: state, group: eventLoopGroup, logger: logger, onServing: { gate.partReady() })),
            .init(service: control),
            .init(service: HangupReloadService(reloader: reloader, notifier: notifier, logger: logger)),
            .init(service: ShutdownNotifyService(notifier: notifier, state: state, logger: logger)),
        ]
        if let endpoint = config.daemon.metricsListen {
            services.append(.init(service: MetricsListener(
                endpoint: endpoint, metrics: metrics, state: state, eventLoopGroup: eventLoopGroup, logger: logger,
                onListening: { gate.partReady() }
            )))
        }
        var groupConfig = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        groupConfig.maximumGracefulShutdownDuration = .seconds(config.daemon.shutdownTimeoutSeconds)
        let group = ServiceGroup(configuration: groupConfig)
        do {
            try await group.run()
            logger.info("vdiskd stopped")
            return 0
        } catch {
            logger.critical("vdiskd failed: \(error)")
            notifier.notify("STATUS=failed: \(error)")
            return 1
        }
    }
}
