// Turns a vdiskd.toml into a validated DaemonConfig, or into a list of located errors.

import Filters
import Foundation
import ISCSI
import ISCSIAddress
import Logging
import TOMLKit

/// Reads and validates the config. Nothing here touches a target or a datastore: the daemon
/// starts services only from a config that passed, so a bad file never reaches a LUN.
public enum ConfigLoader {
    public static let defaultPath = "/etc/vdiskd/vdiskd.toml"

    /// Reads `path`, validates it and loads the secrets file it names.
    public static func load(path: String) throws(ConfigInvalid) -> DaemonConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file"
            throw ConfigInvalid(errors: [ConfigError(file: path, line: nil, key: "", message: "cannot read the config file (\(reason))")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigInvalid(errors: [ConfigError(file: path, line: nil, key: "", message: "the config file is not UTF-8")])
        }
        return try parse(text: text, path: path, loadSecrets: SecretsFile.load(path:))
    }

    /// Validates `text` as if read from `path`; `loadSecrets` reads the secrets file it names,
    /// and `machineHostID` gives the host id of a datastore without `host_uuid`.
    public static func parse(
        text: String,
        path: String,
        loadSecrets: (String) throws(ConfigInvalid) -> [String: String],
        machineHostID: () throws(MachineHostID.Unavailable) -> UUID = { () throws(MachineHostID.Unavailable) in try MachineHostID.derive() }
    ) throws(ConfigInvalid) -> DaemonConfig {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigInvalid(errors: [ConfigError(file: path, line: error.source.begin.line, key: "", message: "not valid TOML: \(error.description)")])
        } catch {
            throw ConfigInvalid(errors: [ConfigError(file: path, line: nil, key: "", message: "not valid TOML: \(error)")])
        }
        let locator = TOMLKeyLocator(source: text)
        var config = DaemonConfig(path: path)
        config.keyLines = locator
        var errors: [ConfigError] = []

        var root = ConfigSectionReader(table: table, section: "", index: nil, file: path, locator: locator)
        let daemonTable = root.table("daemon")
        let targetTables = root.tableArray("target")
        let datastoreTables = root.tableArray("datastore")
        let diskTables = root.tableArray("disk")
        let exportTables = root.tableArray("export")
        root.finish()
        errors += root.errors

        if let daemonTable {
            var reader = ConfigSectionReader(table: daemonTable, section: "daemon", index: nil, file: path, locator: locator)
            config.daemon = readDaemon(&reader)
            errors += reader.errors
        }

        // References are checked against every name written, valid entry or not, so one mistake
        // is reported once rather than again at everything that refers to it.
        let targetNames = Set(targetTables.compactMap { $0["name"]?.string })
        let datastoreNames = Set(datastoreTables.compactMap { $0["name"]?.string })
        let diskReferences = Set(diskTables.compactMap { table -> String? in
            guard let store = table["datastore"]?.string, let name = table["name"]?.string else { return nil }
            return "\(store)/\(name)"
        })
        var targetLines: [String: Int] = [:]
        for (offset, entry) in targetTables.enumerated() {
            var reader = ConfigSectionReader(table: entry, section: "target", index: offset + 1, file: path, locator: locator)
            if let target = readTarget(&reader) {
                if targetLines[target.name] != nil {
                    reader.fail("name", "another [[target]] is already named \"\(target.name)\"")
                } else {
                    targetLines[target.name] = offset
                    config.targets.append(target)
                }
            }
            errors += reader.errors
        }

        var datastoresSeen: Set<String> = []
        for (offset, entry) in datastoreTables.enumerated() {
            var reader = ConfigSectionReader(table: entry, section: "datastore", index: offset + 1, file: path, locator: locator)
            if let datastore = readDatastore(&reader, machineHostID: machineHostID) {
                if !targetNames.contains(datastore.target) {
                    reader.fail("target", "no [[target]] is named \"\(datastore.target)\"")
                } else if !datastoresSeen.insert(datastore.name).inserted {
                    reader.fail("name", "another [[datastore]] is already named \"\(datastore.name)\"")
                } else {
                    config.datastores.append(datastore)
                }
            }
            errors += reader.errors
        }

        for (offset, entry) in diskTables.enumerated() {
            var reader = ConfigSectionReader(table: entry, section: "disk", index: offset + 1, file: path, locator: locator)
            if let disk = readDisk(&reader) {
                if !datastoreNames.contains(disk.datastore) {
                    reader.fail("datastore", "no [[datastore]] is named \"\(disk.datastore)\"")
                } else if config.disks.contains(where: { $0.reference == disk.reference }) {
                    reader.fail("name", "disk \"\(disk.reference)\" is listed twice")
                } else if let problem = Self.ioControlProblem(disk, config: config) {
                    reader.fail("filters", at: problem.place, problem.message)
                } else {
                    config.disks.append(disk)
                }
            }
            errors += reader.errors
        }

        var listening: Set<ISCSIEndpoint> = []
        for (offset, entry) in exportTables.enumerated() {
            var reader = ConfigSectionReader(table: entry, section: "export", index: offset + 1, file: path, locator: locator)
            if let export = readExport(&reader) {
                let unknownDisks = export.disks.filter { !diskReferences.contains($0) }
                let taken = export.listen.filter { listening.contains($0) }
                if let missing = unknownDisks.first {
                    reader.fail("disks", "no [[disk]] is \"\(missing)\" (disks are named \"datastore/disk\")")
                } else if let endpoint = taken.first {
                    reader.fail("listen", "\(endpoint) is already used by another [[export]]")
                } else if let problem = export.diskConflict(with: config.exports) {
                    reader.fail("disks", problem)
                } else if config.exports.contains(where: { $0.name == export.name }) {
                    reader.fail("name", "another [[export]] is already named \"\(export.name)\"")
                } else {
                    listening.formUnion(export.listen)
                    config.exports.append(export)
                }
            }
            errors += reader.errors
        }

        let chapSecrets = config.targets.compactMap(\.chapSecret) + config.exports.compactMap(\.chapSecret)
            + config.targets.compactMap(\.mutualChapSecret) + config.exports.compactMap(\.mutualChapSecret)
        if !chapSecrets.isEmpty {
            errors += checkSecrets(&config, locator: locator, loadSecrets: loadSecrets)
        }

        guard errors.isEmpty else {
            throw ConfigInvalid(errors: errors.sorted { ($0.file, $0.line ?? 0) < ($1.file, $1.line ?? 0) })
        }
        return config
    }

    private static func checkSecrets(
        _ config: inout DaemonConfig,
        locator: TOMLKeyLocator,
        loadSecrets: (String) throws(ConfigInvalid) -> [String: String]
    ) -> [ConfigError] {
        guard let secretsPath = config.daemon.secretsFile else {
            return [ConfigError(file: config.path, line: locator.line(section: "daemon", index: nil, key: "secrets_file"), key: "daemon.secrets_file",
                                message: "CHAP is configured but no secrets file is named; set secrets_file")]
        }
        let secrets: [String: String]
        do {
            secrets = try loadSecrets(secretsPath)
        } catch {
            return error.errors
        }
        config.secrets = secrets
        var errors: [ConfigError] = []
        let references = config.targets.enumerated().flatMap { [("target", $0.offset + 1, "chap_secret", $0.element.chapSecret), ("target", $0.offset + 1, "mutual_chap_secret", $0.element.mutualChapSecret)] }
            + config.exports.enumerated().flatMap { [("export", $0.offset + 1, "chap_secret", $0.element.chapSecret), ("export", $0.offset + 1, "mutual_chap_secret", $0.element.mutualChapSecret)] }
        let pairs = config.targets.enumerated().map { ("target", $0.offset + 1, $0.element.chapSecret, $0.element.mutualChapSecret) }
            + config.exports.enumerated().map { ("export", $0.offset + 1, $0.element.chapSecret, $0.element.mutualChapSecret) }
        for (section, index, chap, mutual) in pairs {
            guard let chap, let mutual, let one = secrets[chap], one == secrets[mutual] else { continue }
            errors.append(ConfigError(file: config.path, line: locator.line(section: section, index: index, key: "mutual_chap_secret"), key: "\(section)[\(index)].mutual_chap_secret",
                                      message: "\"\(mutual)\" holds the same secret as \"\(chap)\"; each direction of CHAP needs a secret of its own"))
        }
        for (section, index, key, name) in references {
            guard let name else { continue }
            let line = locator.line(section: section, index: index, key: key)
            guard let secret = secrets[name] else {
                errors.append(ConfigError(file: config.path, line: line, key: "\(section)[\(index)].\(key)",
                                          message: "no secret named \"\(name)\" in \(secretsPath)"))
                continue
            }
            let minimum = CHAPCredentials.minimumSecretLength
            if secret.utf8.count < minimum {
                errors.append(ConfigError(file: config.path, line: line, key: "\(section)[\(index)].\(key)",
                                          message: "the secret \"\(name)\" in \(secretsPath) has \(secret.utf8.count) bytes; CHAP secrets need at least \(minimum)"))
            }
        }
        return errors
    }

    private static func readDaemon(_ reader: inout ConfigSectionReader) -> DaemonSettings {
        var settings = DaemonSettings()
        if let level = reader.string("log_level") {
            if let parsed = Logger.Level(rawValue: level) {
                settings.logLevel = parsed
            } else {
                reader.fail("log_level", "\"\(level)\" is not one of trace, debug, info, notice, warning, error, critical")
            }
        }
        if let socket = reader.string("control_socket") {
            if socket.hasPrefix("/") { settings.controlSocket = socket } else { reader.fail("control_socket", "must be an absolute path") }
        }
        if let directory = reader.string("state_directory") {
            if directory.hasPrefix("/") { settings.stateDirectory = directory } else { reader.fail("state_directory", "must be an absolute path") }
        }
        if let group = reader.string("socket_group") { settings.socketGroup = group.isEmpty ? nil : group }
        if let group = reader.string("control_group") { settings.controlGroup = group.isEmpty ? nil : group }
        if let secrets = reader.string("secrets_file") {
            if secrets.hasPrefix("/") { settings.secretsFile = secrets } else if !secrets.isEmpty { reader.fail("secrets_file", "must be an absolute path") }
        }
        if let metrics = reader.string("metrics_listen"), !metrics.isEmpty {
            if let endpoint = try? ISCSIEndpoint(parsing: metrics, defaultPort: nil), ["127.0.0.1", "::1", "localhost"].contains(endpoint.host) {
                settings.metricsListen = endpoint
            } else {
                reader.fail("metrics_listen", "\"\(metrics)\" is not a loopback host:port such as 127.0.0.1:9464; use \"\" to keep it off")
            }
        }
        if let timeout = reader.int("shutdown_timeout_seconds", range: 1...600) { settings.shutdownTimeoutSeconds = timeout }
        reader.finish()
        return settings
    }

    private static func readTarget(_ reader: inout ConfigSectionReader) -> TargetSettings? {
        let name = reader.string("name", required: true)
        let paths = reader.pathSettings()
        let portalText = reader.string("portal", required: paths.isEmpty)
        let iqn = reader.string("iqn", required: true)
        let lun = reader.int("lun", required: true, range: 0...16383)
        let engine = reader.choice("engine", as: TargetSettings.Engine.self)
        let chapUser = reader.string("chap_user")
        let chapSecret = reader.string("chap_secret")
        let mutualUser = reader.string("mutual_chap_user")
        let mutualSecret = reader.string("mutual_chap_secret")
        let algorithmNames = reader.stringArray("chap_algorithms")
        let login = reader.int("login_timeout_seconds", range: 1...600)
        let command = reader.int("command_timeout_seconds", range: 1...3600)
        let recovery = reader.int("recovery_timeout_seconds", range: 0...86400)
        let nopInterval = reader.int("nop_interval_seconds", range: 1...3600)
        let nopTimeout = reader.int("nop_timeout_seconds", range: 1...3600)
        let policy = reader.pathPolicy(paths: paths)
        let probeInterval = reader.int("probe_interval_seconds", range: 1...3600)
        let apdTimeout = reader.int("apd_timeout_seconds", range: 0...86400)
        let discover = reader.bool("discover_paths") ?? false
        if paths.isEmpty, !discover {
            for key in ["path_policy", "probe_interval_seconds", "apd_timeout_seconds"] where reader.rawValue(key) != nil {
                reader.fail(key, "only applies to a target with portals, paths or discover_paths = true")
            }
        } else if recovery != nil {
            reader.fail("recovery_timeout_seconds", "a target with several paths waits for a path for apd_timeout_seconds instead")
        }
        if engine == .libiscsi, let bound = paths.firstIndex(where: { $0.source != nil }) {
            reader.fail("paths", at: "paths[\(bound + 1)].source", "the libiscsi engine cannot bind a source address (only an interface); use engine = \"native\"")
        }
        if portalText != nil, !paths.isEmpty {
            reader.fail("portal", "give either portal or portals/paths, not both")
        }
        var portal: ISCSIEndpoint?
        if let portalText {
            do {
                portal = try ISCSIEndpoint(parsing: portalText)
            } catch {
                reader.fail("portal", "\"\(portalText)\" is not host or host:port: \(error.reason)")
            }
        }
        if let iqn, !(iqn.hasPrefix("iqn.") || iqn.hasPrefix("eui.") || iqn.hasPrefix("naa.")) {
            reader.fail("iqn", "\"\(iqn)\" is not an iSCSI name (iqn., eui. or naa.)")
        }
        if (chapUser == nil) != (chapSecret == nil) {
            reader.fail(chapUser == nil ? "chap_secret" : "chap_user", "chap_user and chap_secret go together")
        }
        checkMutual(&reader, chapUser: chapUser, mutualUser: mutualUser, mutualSecret: mutualSecret, chapSecret: chapSecret)
        var algorithms: [CHAPAlgorithm]?
        if let algorithmNames {
            do {
                algorithms = try CHAPAlgorithm.parse(names: algorithmNames)
            } catch {
                reader.fail("chap_algorithms", error.message)
            }
            if chapUser == nil { reader.fail("chap_algorithms", "is only used with chap_user and chap_secret") }
        }
        reader.finish()
        guard let name, let portal = portal ?? paths.first?.portal, let iqn, let lun, reader.errors.isEmpty else { return nil }
        var target = TargetSettings(name: name, portal: portal, iqn: iqn, lun: lun)
        target.paths = paths
        target.discoverPaths = discover
        target.pathPolicy = policy ?? target.pathPolicy
        target.probeIntervalSeconds = probeInterval ?? target.probeIntervalSeconds
        target.apdTimeoutSeconds = apdTimeout ?? target.apdTimeoutSeconds
        target.nopIntervalSeconds = nopInterval ?? target.nopIntervalSeconds
        target.nopTimeoutSeconds = nopTimeout ?? target.nopTimeoutSeconds
        target.engine = engine ?? .native
        target.chapUser = chapUser
        target.chapSecret = chapSecret
        target.mutualChapUser = mutualUser
        target.mutualChapSecret = mutualSecret
        target.chapAlgorithms = algorithms
        target.loginTimeoutSeconds = login ?? target.loginTimeoutSeconds
        target.commandTimeoutSeconds = command ?? target.commandTimeoutSeconds
        target.recoveryTimeoutSeconds = recovery ?? target.recoveryTimeoutSeconds
        return target
    }

    private static func readDatastore(
        _ reader: inout ConfigSectionReader,
        machineHostID: () throws(MachineHostID.Unavailable) -> UUID
    ) -> DatastoreSettings? {
        let name = reader.string("name", required: true)
        let target = reader.string("target", required: true)
        let uuidText = reader.string("host_uuid")
        let hostName = reader.string("host_name")
        let interval = reader.int("heartbeat_interval_seconds", range: 1...60)
        let lease = reader.int("heartbeat_lease_seconds", range: 2...600)
        let spaceWarning = reader.int("space_warning_percent", range: 0...100)
        let capacity = reader.int("io_control_capacity_iops", range: 1...100_000_000)
        var uuid = uuidText.flatMap(UUID.init(uuidString:))
        if uuidText != nil && uuid == nil { reader.fail("host_uuid", "\"\(uuidText ?? "")\" is not a UUID (uuidgen makes one)") }
        if uuidText == nil {
            // Unset: this machine's own id, stable across restarts and distinct per machine.
            do {
                uuid = try machineHostID()
            } catch {
                reader.fail("host_uuid", "is not set, and no host id can be derived from the machine id: \(error); set host_uuid (uuidgen makes one)")
            }
        }
        if let interval, let lease, lease < 2 * interval {
            reader.fail("heartbeat_lease_seconds", "must be at least twice heartbeat_interval_seconds (\(interval))")
        }
        reader.finish()
        guard let name, let target, let uuid, reader.errors.isEmpty else { return nil }
        var datastore = DatastoreSettings(name: name, target: target, hostUUID: uuid, hostName: hostName ?? ProcessInfo.processInfo.hostName)
        datastore.heartbeatIntervalSeconds = interval ?? datastore.heartbeatIntervalSeconds
        datastore.heartbeatLeaseSeconds = lease ?? datastore.heartbeatLeaseSeconds
        datastore.spaceWarningPercent = spaceWarning ?? datastore.spaceWarningPercent
        datastore.ioControlCapacityIOPS = capacity
        return datastore
    }

    /// A disk's ioControl shares or reservation its datastore cannot honour: either needs the
    /// datastore's `io_control_capacity_iops`, and the reservations of its disks (those read so
    /// far and this one) may not add up to more than it.
    private static func ioControlProblem(_ disk: DiskSettings, config: DaemonConfig) -> (place: String, message: String)? {
        func ioControl(_ settings: DiskSettings) -> (index: Int, spec: FilterSpec)? {
            settings.filters?.enumerated().first { $0.element.name == "ioControl" }.map { ($0.offset + 1, $0.element) }
        }
        func number(_ value: FilterParameterValue?) -> Double {
            switch value {
            case .int(let number)?: Double(number)
            case .double(let number)?: number
            default: 0
            }
        }
        guard let (index, spec) = ioControl(disk), let datastore = config.datastores.first(where: { $0.name == disk.datastore }) else { return nil }
        let reservation = number(spec.parameters["reservation"])
        guard let capacity = datastore.ioControlCapacityIOPS else {
            for name in ["reservation", "shares"] where spec.parameters[name] != nil {
                return ("filters[\(index)].\(name)", "\(name) needs the device's capacity; set io_control_capacity_iops on [[datastore]] \(datastore.name)")
            }
            return nil
        }
        let others = config.disks.filter { $0.datastore == disk.datastore }.compactMap(ioControl).reduce(0) { $0 + number($1.spec.parameters["reservation"]) }
        guard others + reservation <= Double(capacity) else {
            return ("filters[\(index)].reservation", "a reservation of \(Int(reservation)) IOPS, with the \(Int(others)) IOPS already reserved on datastore \(datastore.name), is more than its io_control_capacity_iops (\(capacity))")
        }
        return nil
    }

    private static func readDisk(_ reader: inout ConfigSectionReader) -> DiskSettings? {
        let datastore = reader.string("datastore", required: true)
        let name = reader.string("name", required: true)
        let mode = reader.choice("mode", as: DiskSettings.Mode.self)
        let takeover = reader.choice("takeover", as: DiskSettings.Takeover.self)
        let filters = reader.filterSpecs("filters")
        if let name, name.contains("/") { reader.fail("name", "must not contain \"/\"") }
        reader.finish()
        guard let datastore, let name, reader.errors.isEmpty else { return nil }
        var disk = DiskSettings(datastore: datastore, name: name)
        disk.mode = mode ?? .exclusive
        disk.takeover = takeover ?? .manual
        disk.filters = filters
        return disk
    }

    private static func readExport(_ reader: inout ConfigSectionReader) -> ExportSettings? {
        let name = reader.string("name", required: true)
        let iqn = reader.string("iqn", required: true)
        let listenTexts = reader.stringArray("listen", required: true)
        let disks = reader.stringArray("disks", required: true)
        let chapUser = reader.string("chap_user")
        let chapSecret = reader.string("chap_secret")
        let mutualUser = reader.string("mutual_chap_user")
        let mutualSecret = reader.string("mutual_chap_secret")
        let allowed = reader.stringArray("allowed_initiators")
        let discovery = reader.choice("discovery", as: ExportSettings.Discovery.self)
        let readOnly = reader.bool("read_only")
        let maxSessions = reader.int("max_sessions", range: 1...65535)
        let maxDiscovery = reader.int("max_discovery_sessions", range: 1...1024)
        let loginTimeout = reader.int("login_timeout_seconds", range: 1...600)
        let discoveryIdle = reader.int("discovery_idle_timeout_seconds", range: 1...3600)
        let writeBudget = reader.int("write_budget_bytes", range: (1 << 20)...(64 << 30))
        let connectionBudget = reader.int("connection_write_budget_bytes", range: (1 << 20)...(64 << 30))
        let dataPhase = reader.int("data_phase_timeout_seconds", range: 1...3600)
        let failedLogins = reader.int("max_failed_logins", range: 1...1000)
        let pendingLogins = reader.int("max_pending_logins", range: 1...65535)
        let pendingPerSource = reader.int("max_pending_logins_per_source", range: 1...65535)
        let perInitiator = reader.int("max_sessions_per_initiator", range: 1...65535)
        let reserve = reader.int("descriptor_reserve", range: 0...65535)
        var listen: [ISCSIEndpoint] = []
        for text in listenTexts ?? [] {
            do {
                listen.append(try ISCSIEndpoint(parsing: text, defaultPort: nil))
            } catch {
                reader.fail("listen", "\"\(text)\" is not host:port: \(error.reason)")
            }
        }
        if listenTexts?.isEmpty == true { reader.fail("listen", "needs at least one host:port") }
        if disks?.isEmpty == true { reader.fail("disks", "needs at least one disk") }
        if (chapUser == nil) != (chapSecret == nil) {
            reader.fail(chapUser == nil ? "chap_secret" : "chap_user", "chap_user and chap_secret go together")
        }
        checkMutual(&reader, chapUser: chapUser, mutualUser: mutualUser, mutualSecret: mutualSecret, chapSecret: chapSecret)
        for initiator in allowed ?? [] where !(initiator.hasPrefix("iqn.") || initiator.hasPrefix("eui.") || initiator.hasPrefix("naa.")) {
            reader.fail("allowed_initiators", "\"\(initiator)\" is not an iSCSI name (iqn., eui. or naa.)")
        }
        reader.finish()
        guard let name, let iqn, let disks, reader.errors.isEmpty else { return nil }
        var export = ExportSettings(name: name, iqn: iqn, listen: listen, disks: disks)
        export.chapUser = chapUser
        export.chapSecret = chapSecret
        export.mutualChapUser = mutualUser
        export.mutualChapSecret = mutualSecret
        export.allowedInitiators = allowed ?? []
        export.discovery = discovery ?? .automatic
        export.readOnly = readOnly ?? false
        export.maxSessions = maxSessions ?? export.maxSessions
        export.maxDiscoverySessions = maxDiscovery ?? export.maxDiscoverySessions
        export.loginTimeoutSeconds = loginTimeout ?? export.loginTimeoutSeconds
        export.discoveryIdleTimeoutSeconds = discoveryIdle ?? export.discoveryIdleTimeoutSeconds
        export.writeBudgetBytes = writeBudget ?? export.writeBudgetBytes
        export.connectionWriteBudgetBytes = connectionBudget ?? export.connectionWriteBudgetBytes
        export.dataPhaseTimeoutSeconds = dataPhase ?? export.dataPhaseTimeoutSeconds
        export.maxFailedLogins = failedLogins ?? export.maxFailedLogins
        export.maxPendingLogins = pendingLogins ?? export.maxPendingLogins
        export.maxPendingLoginsPerSource = pendingPerSource ?? export.maxPendingLoginsPerSource
        export.maxSessionsPerInitiator = perInitiator ?? export.maxSessionsPerInitiator
        export.descriptorReserve = reserve ?? export.descriptorReserve
        return export
    }

    /// Mutual CHAP needs its user and secret together, one-way CHAP beside it, and a secret
    /// of its own (RFC 7143 §9.2.1: one secret must not authenticate both directions).
    private static func checkMutual(
        _ reader: inout ConfigSectionReader, chapUser: String?, mutualUser: String?, mutualSecret: String?, chapSecret: String?
    ) {
        if (mutualUser == nil) != (mutualSecret == nil) {
            reader.fail(mutualUser == nil ? "mutual_chap_secret" : "mutual_chap_user", "mutual_chap_user and mutual_chap_secret go together")
        }
        if mutualUser != nil, chapUser == nil {
            reader.fail("mutual_chap_user", "mutual CHAP needs chap_user and chap_secret too")
        }
        if let mutualSecret, mutualSecret == chapSecret {
            reader.fail("mutual_chap_secret", "names the same secret as chap_secret; each direction needs a secret of its own")
        }
    }
}
