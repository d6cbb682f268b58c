// One LUN reached through a native iSCSI session, shown to the layers above as a BlockDevice.

import BlockDevice
import ISCSIAddress
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SCSI

/// A LUN of a native session as a `BlockDevice`.
///
/// Geometry and capabilities are probed once at open (READ CAPACITY(16), the
/// block limits and provisioning VPD pages, REPORT SUPPORTED OPERATION CODES).
/// Commands that end in a UNIT ATTENTION are retried a few times, as SAM asks
/// of an initiator; every other SCSI failure becomes a `BlockDeviceError` whose
/// code says what class of failure it was and whose underlying error is the
/// `SCSICommandError` with the sense in words.
///
/// A LUN opened with `connect` owns its session and recovers it: when the
/// connection is lost it logs in again with the same configuration (same
/// initiator name and ISID, so the target reinstates the same I_T nexus) on the
/// same event loop, one login at a time, and repeats the commands that failed
/// (COMPARE AND WRITE only after checking whether its first attempt landed; see
/// `settleCompareAndWrite`). `recoveryState`, `reconnections` and `events` say
/// what happened (INITIATOR.md, "Session recovery").
public final class ISCSILUN: SCSIBlockCommands {
    public let lun: UInt64
    /// Whether `close()` also logs the session out.
    let ownsSession: Bool
    let link: Reconnector<ISCSISession>
    private let state: NIOLockedValueBox<SCSIUnitState>
    /// Commands taken back by `revokeOutstandingCommands` are never sent again.
    let revocation = CommandRevocation()
    /// Session events and recovery steps; only a LUN opened with `connect` reports session
    /// events. The newest `bufferedEvents` wait for a reader; the stream ends at `close()`.
    public let events: AsyncStream<ISCSILUNEvent>
    private let eventSink: AsyncStream<ISCSILUNEvent>.Continuation

    /// How many times a command is repeated after UNIT ATTENTION.
    static let unitAttentionRetries = 5

    /// Events kept for an owner that reads `events` late (or never); older ones are dropped.
    static let bufferedEvents = 256

    private init(
        link: Reconnector<ISCSISession>,
        lun: UInt64,
        ownsSession: Bool,
        events: (AsyncStream<ISCSILUNEvent>, AsyncStream<ISCSILUNEvent>.Continuation)
    ) {
        self.link = link
        self.lun = lun
        self.ownsSession = ownsSession
        self.events = events.0
        self.eventSink = events.1
        self.state = NIOLockedValueBox(SCSIUnitState())
    }

    /// The session commands go to now (after a reconnection, the new one).
    public var session: ISCSISession { link.latest }
    /// Connected, recovering since when, failed (with why) or closed.
    public var recoveryState: RecoveryState { link.recoveryState }
    /// How many times a lost connection was replaced by a new session.
    public var reconnections: Int { link.reconnections }
    /// How long recovery may take before the LUN is failed; zero when it is off.
    public var recoveryTimeout: Duration { link.policy.timeout }

    /// Opens `lun` on an existing session; closing the LUN leaves the session up.
    /// The session belongs to the caller, so this LUN does not recover it: a lost
    /// connection fails the LUN.
    public static func open(session: ISCSISession, lun: UInt64) async throws -> ISCSILUN {
        let events = AsyncStream.makeStream(of: ISCSILUNEvent.self, bufferingPolicy: .bufferingNewest(ISCSILUN.bufferedEvents))
        let link = Reconnector(
            connection: session,
            name: "LUN \(lun) of \(session.configuration.targetName ?? "?") at \(session.portal)",
            policy: .off,
            connect: { _ in throw BlockDeviceError(.transport, "recovery is off for a LUN opened on a session it does not own") },
            waitForLoss: { _ in nil },
            disconnect: { _ in },
            onEvent: { events.1.yield(.recovery($0)) }
        )
        return try await probe(ISCSILUN(link: link, lun: lun, ownsSession: false, events: events))
    }

    /// Logs in to the URL's target and opens its LUN; closing the LUN logs the session out.
    /// A lost connection is recovered for up to `configuration.recoveryTimeout`. The session
    /// runs on a loop of `eventLoopGroup` (give one `EventLoop` to put several LUNs' sessions,
    /// the paths of one multipath LUN say, on the same thread).
    public static func connect(
        _ url: ISCSITargetURL,
        configuration: ISCSISessionConfiguration? = nil,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "vdisk.iscsi")
    ) async throws -> ISCSILUN {
        var configuration = try configuration
            ?? ISCSISessionConfiguration(portal: url.portal, targetName: url.targetName, authentication: url.authentication())
        configuration.portal = url.portal
        configuration.targetName = url.targetName
        let session = try await ISCSISession.connect(configuration, eventLoopGroup: eventLoopGroup, logger: logger)
        let device = owning(session, lun: url.lun, configuration: configuration, logger: logger)
        do {
            return try await probe(device)
        } catch {
            try? await device.close()
            throw error
        }
    }

    /// A LUN that owns `session` and replaces it, on the same event loop, when its connection is lost.
    private static func owning(_ session: ISCSISession, lun: UInt64, configuration: ISCSISessionConfiguration, logger: Logger) -> ISCSILUN {
        let events = AsyncStream.makeStream(of: ISCSILUNEvent.self, bufferingPolicy: .bufferingNewest(ISCSILUN.bufferedEvents))
        let eventLoop = session.taskExecutor.eventLoop
        let name = "LUN \(lun) of \(configuration.targetName ?? "?") at \(configuration.portal)"
        let link = Reconnector(
            connection: session,
            name: name,
            policy: ReconnectPolicy(timeout: .nanoseconds(configuration.recoveryTimeout.nanoseconds)),
            connect: { remaining in
                var attempt = configuration
                let bound = TimeAmount.nanoseconds(Int64(clamping: remaining.components.seconds * 1_000_000_000 + remaining.components.attoseconds / 1_000_000_000))
                attempt.connectTimeout = min(attempt.connectTimeout, bound)
                attempt.loginTimeout = min(attempt.loginTimeout, bound)
                return try await ISCSISession.connect(attempt, eventLoopGroup: eventLoop, logger: logger)
            },
            waitForLoss: { session in
                for await event in session.events {
                    events.1.yield(.session(event))
                    if case .connectionLost(let error) = event { return "\(error)" }
                }
                return nil
            },
            disconnect: { session in try? await session.logout() },
            onEvent: { event in
                switch event {
                case .lost(let reason): logger.warning("connection lost; recovering", metadata: ["iscsi.lun": "\(name)", "iscsi.reason": "\(reason)"])
                case .attemptFailed(let attempt, let reason): logger.info("login attempt \(attempt) failed", metadata: ["iscsi.lun": "\(name)", "iscsi.reason": "\(reason)"])
                case .reconnected(let attempts, let after, _): logger.notice("reconnected after \(attempts) attempt(s) in \(after)", metadata: ["iscsi.lun": "\(name)"])
                case .failed(let message): logger.error("\(message)")
                }
                events.1.yield(.recovery(event))
            }
        )
        return ISCSILUN(link: link, lun: lun, ownsSession: true, events: events)
    }

    private static func probe(_ device: ISCSILUN) async throws -> ISCSILUN {
        _ = try await device.run(CDB.testUnitReady(), name: "TEST UNIT READY")
        try await device.refreshGeometry()
        try await device.probeCapabilities()
        return device
    }

    public var geometry: BlockGeometry { state.withLockedValue { $0.geometry } }
    /// The session's event loop; a new session after recovery runs on the same one.
    public var preferredTaskExecutor: (any TaskExecutor)? { session.taskExecutor }
    public var capabilities: BlockDeviceCapabilities { state.withLockedValue { $0.capabilities } }

    @discardableResult
    public func refreshGeometry() async throws -> BlockGeometry {
        let (geometry, provisioning) = try await probeGeometry()
        state.withLockedValue { $0.apply(geometry: geometry, provisioning: provisioning) }
        return geometry
    }

    private func probeCapabilities() async throws {
        // This engine tries COMPARE AND WRITE unless RSOC says no (tgt lists it and refuses it).
        let (limits, capabilities) = await probeCapabilities(
            compareAndWriteWorks: { _ in
                guard await self.supports(.compareAndWrite) != false else { return false }
                return await self.compareAndWriteWorks()
            }
        )
        state.withLockedValue { $0.apply(limits: limits, probed: capabilities) }
    }

    public func isAnsweredGood(_ cdb: [UInt8], name: String, dataInLength: Int) async -> Bool {
        (try? await execute(cdb, name: name, expectedDataIn: dataInLength))?.isGood == true
    }

    /// Whether REPORT SUPPORTED OPERATION CODES lists `opcode`; nil when the target cannot say.
    private func supports(_ opcode: OperationCode) async -> Bool? {
        guard let result = try? await execute(
            CDB.reportSupportedOperationCode(opcode.rawValue),
            name: "REPORT SUPPORTED OPERATION CODES",
            expectedDataIn: 64
        ), result.isGood, let answer = try? OperationCodeSupport(parsing: Array(result.data.readableBytesView))
        else { return nil }
        return answer.support.isSupported
    }

    /// Runs one COMPARE AND WRITE of LBA 0 onto itself. The report commands cannot be
    /// trusted for this: tgt 1.0.85 lists the command and refuses it as an invalid opcode,
    /// and istgt runs it but has no REPORT SUPPORTED OPERATION CODES at all.
    private func compareAndWriteWorks() async -> Bool {
        for _ in 0...Self.unitAttentionRetries {
            guard let block = try? await read(at: 0, blockCount: 1) else { return false }
            var payload = block
            payload.writeImmutableBuffer(block)
            guard let result = try? await execute(
                CDB.compareAndWrite(lba: 0, blockCount: 1),
                name: "COMPARE AND WRITE",
                dataOut: payload
            ) else { return false }
            if result.isGood { return true }
            guard let sense = try? SenseData(parsing: result.senseData) else { return false }
            switch sense.senseKey {
            case .miscompare:
                // Someone wrote LBA 0 between our read and the compare: the command works.
                return true
            case .unitAttention:
                continue
            default:
                return false
            }
        }
        return false
    }

    // MARK: BlockDevice

    public func close() async throws {
        let wasOpen = state.withLockedValue { state in
            defer { state.closed = true }
            return !state.closed
        }
        guard wasOpen else { return }
        let live = link.close()
        eventSink.finish()
        if ownsSession, let live { try await live.logout() }
    }

    // MARK: SCSIBlockCommands (read, write and the rest come from its extension)

    public var unitDescription: String { "LUN \(lun) of \(link.latest.portal)" }
    public var isClosed: Bool { state.withLockedValue { $0.closed } }
    public var blockLimits: SCSIBlockLimits { state.withLockedValue { $0.limits } }

    public func runCommand(_ cdb: [UInt8], name: String, dataOut: ByteBuffer?, dataInLength: Int) async throws -> ByteBuffer {
        try await run(cdb, name: name, dataOut: dataOut, expectedDataIn: dataInLength).data
    }

    // MARK: Running commands

    /// Runs a command and returns its result whatever the status; transport errors become BlockDeviceErrors.
    /// A command that failed because the connection was lost is sent again on the recovered
    /// session, unless it was revoked meanwhile (`revokeOutstandingCommands`).
    private func execute(_ cdb: [UInt8], name: String, dataOut: ByteBuffer? = nil, expectedDataIn: Int = 0) async throws -> SCSITaskResult {
        let request = SCSITaskRequest(lun: lun, cdb: cdb, dataOut: dataOut, expectedDataInLength: expectedDataIn, operationName: name)
        let mark = revocation.mark
        // The common case takes the live connection without an await; `liveLink` waits.
        var current: Reconnector<ISCSISession>.Link
        if let connected = link.connectedLink {
            current = connected
        } else {
            current = try await liveLink(name, mark: mark) { try await $0.current() }
        }
        var recovered = false
        while true {
            do {
                if recovered, let settled = try await settleCompareAndWrite(cdb, dataOut: dataOut) {
                    return settled
                }
                return try await current.connection.execute(request)
            } catch let error as ISCSIError where error.scope == .connection {
                try revocation.check(since: mark, name, on: unitDescription)
                do {
                    current = try await liveLink(name, mark: mark) { [current] in
                        try await $0.recover(after: current.generation, cause: "\(error)")
                    }
                } catch let failure as BlockDeviceError where failure.code == .transport {
                    throw BlockDeviceError(.transport, "\(name) on \(unitDescription) failed: \(failure.message)", underlying: error)
                }
                recovered = true
            } catch let error as ISCSIError {
                let code: BlockDeviceError.Code = error.code == .timeout ? .timeout : .transport
                throw BlockDeviceError(code, "\(name) on \(unitDescription) failed", underlying: error)
            }
        }
    }

    /// The connection `wait` gives (the live one, or the one recovery brings), unless the
    /// command marked `mark` was revoked meanwhile. A revocation interrupts the logins under
    /// way; a command that joined them after the revocation waits for the run that replaced them.
    private func liveLink(
        _ name: String,
        mark: CommandRevocation.Mark,
        _ wait: (Reconnector<ISCSISession>) async throws -> Reconnector<ISCSISession>.Link
    ) async throws -> Reconnector<ISCSISession>.Link {
        do {
            let found = try await wait(link)
            try revocation.check(since: mark, name, on: unitDescription)
            return found
        } catch is RecoveryInterrupted {
            try revocation.check(since: mark, name, on: unitDescription)
            return try await liveLink(name, mark: mark) { try await $0.current() }
        } catch {
            try revocation.check(since: mark, name, on: unitDescription)
            throw error
        }
    }

    /// Runs a command, retrying after UNIT ATTENTION, and throws unless the status is GOOD.
    func run(_ cdb: [UInt8], name: String, dataOut: ByteBuffer? = nil, expectedDataIn: Int = 0) async throws -> SCSITaskResult {
        var attempt = 0
        while true {
            let result = try await execute(cdb, name: name, dataOut: dataOut, expectedDataIn: expectedDataIn)
            if result.isGood { return result }
            let sense = result.senseData.isEmpty ? nil : try? SenseData(parsing: result.senseData)
            let failure = SCSICommandError(operation: name, status: SCSIStatus(rawValue: result.status), sense: sense)
            if failure.isUnitAttention, attempt < Self.unitAttentionRetries {
                if let sense { eventSink.yield(.unitAttention(sense)) }
                attempt += 1
                continue
            }
            throw BlockDeviceError(failure, cdb: cdb, object: "\(name) on \(unitDescription)")
        }
    }
}
