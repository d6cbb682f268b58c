// One LUN reached through libiscsi, shown to the layers above as a BlockDevice:
// the same operations, probing and error classes as the native engine's LUN.

import BlockDevice
import ISCSIAddress
import Logging
import NIOConcurrencyHelpers
import NIOCore
import SCSI

#if canImport(Glibc)
import Glibc
#endif

/// A LUN behind libiscsi as a `BlockDevice`.
///
/// Every command is built with `CDB` and sent through one generic path
/// (`iscsi_scsi_command_async`), so status, sense and error mapping are the same
/// as the native engine's. Geometry and capabilities are probed once at open
/// (READ CAPACITY(16), VPD B0/B2, REPORT SUPPORTED OPERATION CODES and a
/// harmless trial for COMPARE AND WRITE, PERSISTENT RESERVE IN REPORT CAPABILITIES).
public final class LibISCSIDevice: SCSIBlockCommands {
    public let url: ISCSITargetURL
    /// The engine loop commands go to; a revocation gives up its context, and the next
    /// command logs in on a new loop (`liveLoop`).
    private let engine: NIOLockedValueBox<Engine>
    private let state: NIOLockedValueBox<SCSIUnitState>
    let revocation = CommandRevocation()

    /// The current loop, and the login of its successor when a revocation gave it up.
    struct Engine {
        var loop: LibISCSIEventLoop
        var revoked = false
        var replacement: Task<LibISCSIEventLoop, any Error>?
    }

    var loop: LibISCSIEventLoop { engine.withLockedValue { $0.loop } }

    private enum LoopDecision {
        case use(LibISCSIEventLoop)
        case wait(Task<LibISCSIEventLoop, any Error>)
    }

    /// How many times a command is repeated after UNIT ATTENTION (as the native engine).
    static let unitAttentionRetries = 5

    private init(url: ISCSITargetURL, loop: LibISCSIEventLoop) {
        self.url = url
        self.engine = NIOLockedValueBox(Engine(loop: loop))
        self.state = NIOLockedValueBox(SCSIUnitState())
    }

    deinit {
        // A device dropped without close() still ends its thread and connection.
        let loop = self.loop
        Task { await loop.shutdown() }
    }

    /// Logs in to the URL's target and opens its LUN.
    ///
    /// `url` is in libiscsi's form, `iscsi://[user[%password]@]host[:port]/IQN/LUN`,
    /// optionally with `?target_user=..&target_password=..` for mutual CHAP and
    /// `header_digest=crc32c|none`. CHAP in `configuration` wins over the URL's.
    public static func connect(
        url: String,
        configuration: LibISCSIConfiguration = LibISCSIConfiguration(),
        logger: Logger = Logger(label: "vdisk.libiscsi")
    ) async throws -> LibISCSIDevice {
        let parsed: ISCSITargetURL
        do {
            parsed = try ISCSITargetURL(parsing: url)
        } catch {
            throw BlockDeviceError(.invalidArgument, "cannot open \(ISCSITargetURL.redacted(url)) with libiscsi", underlying: error)
        }
        return try await connect(url: parsed, configuration: configuration, logger: logger)
    }

    /// Logs in to `url`'s target and opens its LUN.
    public static func connect(
        url: ISCSITargetURL,
        configuration: LibISCSIConfiguration = LibISCSIConfiguration(),
        logger: Logger = Logger(label: "vdisk.libiscsi")
    ) async throws -> LibISCSIDevice {
        try checkSource(configuration.source, url: url)
        var logger = logger
        logger[metadataKey: "libiscsi.url"] = "\(url)"
        let loop: LibISCSIEventLoop
        do {
            loop = try LibISCSIEventLoop(url: url, configuration: configuration, logger: logger)
            try await loop.start()
        } catch let error as LibISCSIEngineError {
            throw loginError(error, url: url, configuration: configuration)
        }
        let device = LibISCSIDevice(url: url, loop: loop)
        do {
            _ = try await device.run(CDB.testUnitReady(), name: "TEST UNIT READY")
            try await device.refreshGeometry()
            try await device.probeCapabilities()
        } catch {
            try? await device.close()
            throw error
        }
        logger.debug("libiscsi device open", metadata: ["libiscsi.geometry": "\(device.geometry)"])
        return device
    }

    /// What libiscsi cannot do with a source, refused before a thread or socket exists:
    /// it has no way to bind an address, and binds an interface that is missing without
    /// a word.
    private static func checkSource(_ source: ConnectionSource?, url: ISCSITargetURL) throws {
        guard let source else { return }
        let object = "cannot connect to \(url.endpoint) from \(source) with libiscsi"
        if source.address != nil {
            throw BlockDeviceError(.invalidArgument, "\(object): libiscsi cannot bind a source address; bind an interface instead, or use the native engine")
        }
        if let interface = source.interface, if_nametoindex(interface) == 0 {
            throw BlockDeviceError(.invalidArgument, "\(object): this host has no network interface named '\(interface)' (see `ip link`)")
        }
    }

    /// Puts a failed login in words; a refused login usually means wrong CHAP credentials or ACL.
    private static func loginError(
        _ error: LibISCSIEngineError,
        url: ISCSITargetURL,
        configuration: LibISCSIConfiguration
    ) -> BlockDeviceError {
        let object = "login to \(url.targetName) at \(url.endpoint) as \(configuration.initiatorName)"
        switch error {
        case .timeout(let reason):
            return BlockDeviceError(.timeout, "\(object) timed out", underlying: LibISCSITransportError(operation: "login", reason: reason))
        case .closed:
            return BlockDeviceError(.closed, "\(object) was abandoned: the device was closed")
        case .revoked(let reason):
            return BlockDeviceError(.fenced, "\(object) was abandoned: \(reason)")
        case .transport(let reason):
            let underlying = LibISCSITransportError(operation: "login", reason: reason)
            if reason.localizedCaseInsensitiveContains("authentication") || reason.localizedCaseInsensitiveContains("chap") {
                let usesCHAP = configuration.chap != nil || url.user != nil
                let hint = usesCHAP
                    ? "check the CHAP user name and secret (and, for mutual CHAP, the target's)"
                    : "the target requires CHAP: give a user and secret"
                return BlockDeviceError(.transport, "\(object) was refused: authentication failed; \(hint)", underlying: underlying)
            }
            if reason.localizedCaseInsensitiveContains("authoriz") || reason.localizedCaseInsensitiveContains("not found") {
                return BlockDeviceError(
                    .transport,
                    "\(object) was refused: the target does not exist or does not allow this initiator name",
                    underlying: underlying
                )
            }
            return BlockDeviceError(.transport, "\(object) failed", underlying: underlying)
        }
    }

    public var geometry: BlockGeometry { state.withLockedValue { $0.geometry } }
    public var capabilities: BlockDeviceCapabilities { state.withLockedValue { $0.capabilities } }

    /// With `autoReconnect` off: why the connection was lost, once it was (every command
    /// then fails with `.transport` until the device is closed); nil while it is up.
    public var connectionLoss: String? { loop.connectionLoss }

    /// Counters of the engine loop, for diagnostics and tests.
    var statistics: LibISCSIEventLoop.Statistics { loop.statistics }

    /// CPU time the engine's thread has used (its CPU clock); nil after close.
    public var engineThreadCPUTime: TimeAmount? { loop.threadCPUTime }

    /// The engine thread's own getrusage(RUSAGE_THREAD), user plus system; nil after close.
    public func engineThreadResourceUsage() async -> TimeAmount? { await loop.threadResourceUsage() }

    @discardableResult
    public func refreshGeometry() async throws -> BlockGeometry {
        try checkOpen()
        let (geometry, provisioning) = try await probeGeometry()
        state.withLockedValue { $0.apply(geometry: geometry, provisioning: provisioning) }
        return geometry
    }

    private func probeCapabilities() async throws {
        // This engine trusts the block limits page's COMPARE AND WRITE length before RSOC.
        let (limits, capabilities) = await probeCapabilities(
            compareAndWriteWorks: { limits in
                var advertised = limits.maximumCompareAndWriteBlocks > 0
                if !advertised { advertised = await self.supports(.compareAndWrite) }
                return await self.compareAndWriteWorks(advertised: advertised)
            }
        )
        state.withLockedValue { $0.apply(limits: limits, probed: capabilities) }
    }

    public func isAnsweredGood(_ cdb: [UInt8], name: String, dataInLength: Int) async -> Bool {
        (try? await execute(cdb, name: name, dataIn: dataInLength))?.isGood == true
    }

    /// Whether REPORT SUPPORTED OPERATION CODES lists `opcode`; false when the target cannot say.
    private func supports(_ opcode: OperationCode) async -> Bool {
        guard let result = try? await execute(
            CDB.reportSupportedOperationCode(opcode.rawValue),
            name: "REPORT SUPPORTED OPERATION CODES",
            dataIn: 512
        ), result.isGood, let answer = try? OperationCodeSupport(parsing: Array(result.data.readableBytesView))
        else { return false }
        return answer.support.isSupported
    }

    /// Whether COMPARE AND WRITE really works. Advertisement alone misleads both
    /// ways: tgt 1.0.85 lists it in REPORT SUPPORTED OPERATION CODES and sets a
    /// MAXIMUM COMPARE AND WRITE LENGTH of 128, yet answers INVALID COMMAND
    /// OPERATION CODE; istgt 0.4 runs it but has no REPORT SUPPORTED OPERATION
    /// CODES (and never answers a zero-block one). So an advertised command is
    /// tried once on LBA 0 with the block's own contents as both halves, which
    /// changes nothing whatever happens; a refusal other than "invalid opcode"
    /// (reservation, write protection) leaves the advertisement standing.
    private func compareAndWriteWorks(advertised: Bool) async -> Bool {
        guard advertised else { return false }
        let blockSize = geometry.blockSize
        guard let current = try? await run(CDB.read16(lba: 0, blockCount: 1), name: "READ(16)", dataIn: blockSize),
              current.data.readableBytes == blockSize
        else { return true }
        var payload = current.data
        payload.writeImmutableBuffer(current.data)
        guard let result = try? await execute(
            CDB.compareAndWrite(lba: 0, blockCount: 1),
            name: "COMPARE AND WRITE",
            dataOut: payload
        ) else { return true }
        if result.isGood { return true }
        guard let sense = try? SenseData(parsing: result.sense) else { return true }
        switch sense.senseKey {
        case .miscompare: return true
        case .illegalRequest: return sense.additionalSenseCode.asc != 0x20
        default: return true
        }
    }

    // MARK: BlockDevice

    public func close() async throws {
        let wasOpen = state.withLockedValue { state in
            defer { state.closed = true }
            return !state.closed
        }
        guard wasOpen else { return }
        let (loop, replacement) = engine.withLockedValue { ($0.loop, $0.replacement) }
        replacement?.cancel()
        await loop.shutdown()
        if let late = try? await replacement?.value { await late.shutdown() }
    }

    /// Takes back every command not yet completed (each fails with `.fenced`) by giving up the
    /// engine's context as a whole, its socket reset; libiscsi 1.19 can take back nothing
    /// less (`LibISCSIEventLoop.revoke`). The next command logs in again on a new context.
    public func revokeOutstandingCommands(reason: String) async {
        revocation.revoke(reason: reason)
        let loop = engine.withLockedValue { engine in
            engine.revoked = true
            return engine.loop
        }
        await loop.revoke(reason: reason)
    }

    /// The loop to send a command on: after a revocation, a new one logged in once (every
    /// command waiting meanwhile shares that login; a failed login is tried again by the next
    /// command).
    private func liveLoop() async throws -> LibISCSIEventLoop {
        let decision = engine.withLockedValue { engine -> LoopDecision in
            guard engine.revoked else { return .use(engine.loop) }
            if let replacement = engine.replacement { return .wait(replacement) }
            let old = engine.loop
            let replacement = Task {
                let fresh = try LibISCSIEventLoop(url: old.url, configuration: old.configuration, logger: old.logger)
                try await fresh.start()
                return fresh
            }
            engine.replacement = replacement
            return .wait(replacement)
        }
        let replacement: Task<LibISCSIEventLoop, any Error>
        switch decision {
        case .use(let loop): return loop
        case .wait(let task): replacement = task
        }
        do {
            let fresh = try await replacement.value
            let (installed, old) = engine.withLockedValue { engine -> (Bool, LibISCSIEventLoop) in
                guard engine.replacement == replacement else { return (false, engine.loop) }
                let old = engine.loop
                engine.loop = fresh
                engine.revoked = false
                engine.replacement = nil
                return (true, old)
            }
            if installed {
                await old.shutdown()
                if isClosed { await fresh.shutdown() }
            }
            return engine.withLockedValue { $0.loop }
        } catch let error as LibISCSIEngineError {
            engine.withLockedValue { engine in
                if engine.replacement == replacement { engine.replacement = nil }
            }
            throw Self.loginError(error, url: url, configuration: loop.configuration)
        }
    }

    // MARK: SCSIBlockCommands (read, write and the rest come from its extension)

    /// "LUN 1 of iqn... at 127.0.0.1:3260": the object every message names.
    public var unitDescription: String { "LUN \(url.lun) of \(url.targetName) at \(url.endpoint)" }
    public var isClosed: Bool { state.withLockedValue { $0.closed } }
    public var blockLimits: SCSIBlockLimits { state.withLockedValue { $0.limits } }

    public func runCommand(_ cdb: [UInt8], name: String, dataOut: ByteBuffer?, dataInLength: Int) async throws -> ByteBuffer {
        try await run(cdb, name: name, dataOut: dataOut, dataIn: dataInLength).data
    }

    // MARK: Running commands

    /// Runs a command and returns its result whatever the SCSI status; engine failures become BlockDeviceErrors.
    func execute(_ cdb: [UInt8], name: String, dataOut: ByteBuffer? = nil, dataIn: Int = 0) async throws -> LibISCSICommandResult {
        let transfer: LibISCSICommand.Transfer =
            if let dataOut { .write(dataOut) } else if dataIn > 0 { .read(length: dataIn) } else { .none }
        let mark = revocation.mark
        let loop = try await liveLoop()
        try revocation.check(since: mark, name, on: unitDescription)
        let command = LibISCSICommand(
            cdb: cdb,
            name: name,
            lun: Int(url.lun),
            transfer: transfer,
            deadline: .now() + loop.configuration.commandTimeout
        )
        do {
            return try await loop.execute(command)
        } catch let error as LibISCSIEngineError {
            throw blockDeviceError(error, name: name)
        }
    }

    /// Runs a command, retrying after UNIT ATTENTION, and throws unless the status is GOOD.
    func run(_ cdb: [UInt8], name: String, dataOut: ByteBuffer? = nil, dataIn: Int = 0) async throws -> LibISCSICommandResult {
        var attempt = 0
        // Bounded: at most `unitAttentionRetries` repeats.
        while true {
            let result = try await execute(cdb, name: name, dataOut: dataOut, dataIn: dataIn)
            if result.isGood { return result }
            let sense = result.sense.isEmpty ? nil : try? SenseData(parsing: result.sense)
            let failure = SCSICommandError(operation: name, status: result.status, sense: sense)
            if failure.isUnitAttention, attempt < Self.unitAttentionRetries {
                attempt += 1
                continue
            }
            throw BlockDeviceError(failure, cdb: cdb, object: "\(name) on \(unitDescription)")
        }
    }
}
