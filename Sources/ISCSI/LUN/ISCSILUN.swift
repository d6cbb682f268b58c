// One LUN reached through a native iSCSI session, shown to the layers above as a BlockDevice.

import BlockDevice
import Logging
import NIOConcurrencyHelpers
import NIOCore
import SCSI

/// A LUN of a native session as a `BlockDevice`.
///
/// Geometry and capabilities are probed once at open (READ CAPACITY(16), the
/// block limits and provisioning VPD pages, REPORT SUPPORTED OPERATION CODES).
/// Commands that end in a UNIT ATTENTION are retried a few times, as SAM asks
/// of an initiator; every other SCSI failure becomes a `BlockDeviceError` whose
/// code says what class of failure it was and whose underlying error is the
/// `SCSICommandError` with the sense in words.
public final class ISCSILUN: SCSIBlockCommands {
    public let session: ISCSISession
    public let lun: UInt64
    /// Whether `close()` also logs the session out.
    private let ownsSession: Bool
    private let state: NIOLockedValueBox<State>

    private struct State {
        var geometry: BlockGeometry
        var capabilities: BlockDeviceCapabilities
        var limits = SCSIBlockLimits()
        var closed = false
    }

    /// How many times a command is repeated after UNIT ATTENTION.
    static let unitAttentionRetries = 5

    private init(session: ISCSISession, lun: UInt64, ownsSession: Bool, state: State) {
        self.session = session
        self.lun = lun
        self.ownsSession = ownsSession
        self.state = NIOLockedValueBox(state)
    }

    /// Opens `lun` on an existing session; closing the LUN leaves the session up.
    public static func open(session: ISCSISession, lun: UInt64) async throws -> ISCSILUN {
        try await probe(session: session, lun: lun, ownsSession: false)
    }

    /// Logs in to the URL's target and opens its LUN; closing the LUN logs the session out.
    public static func connect(
        _ url: ISCSIURL,
        configuration: ISCSISessionConfiguration? = nil,
        logger: Logger = Logger(label: "vdisk.iscsi")
    ) async throws -> ISCSILUN {
        var configuration = configuration
            ?? ISCSISessionConfiguration(portal: url.portal, targetName: url.targetName, authentication: url.authentication)
        configuration.portal = url.portal
        configuration.targetName = url.targetName
        let session = try await ISCSISession.connect(configuration, logger: logger)
        do {
            return try await probe(session: session, lun: url.lun, ownsSession: true)
        } catch {
            try? await session.logout()
            throw error
        }
    }

    private static func probe(session: ISCSISession, lun: UInt64, ownsSession: Bool) async throws -> ISCSILUN {
        let device = ISCSILUN(
            session: session,
            lun: lun,
            ownsSession: ownsSession,
            state: State(
                geometry: BlockGeometry(blockSize: 512, blockCount: 0),
                capabilities: []
            )
        )
        _ = try await device.run(CDB.testUnitReady(), name: "TEST UNIT READY")
        try await device.refreshGeometry()
        try await device.probeCapabilities()
        return device
    }

    public var geometry: BlockGeometry { state.withLockedValue { $0.geometry } }
    public var preferredTaskExecutor: (any TaskExecutor)? { session.taskExecutor }
    public var capabilities: BlockDeviceCapabilities { state.withLockedValue { $0.capabilities } }

    @discardableResult
    public func refreshGeometry() async throws -> BlockGeometry {
        let capacity = try await readCapacity()
        let geometry = BlockGeometry(blockSize: Int(capacity.blockLength), blockCount: capacity.blockCount)
        state.withLockedValue { state in
            state.geometry = geometry
            if capacity.logicalBlockProvisioningManagementEnabled {
                state.capabilities.insert(.unmap)
                if capacity.logicalBlockProvisioningReadZeros { state.capabilities.insert(.unmappedReadsZero) }
            }
        }
        return geometry
    }

    private func probeCapabilities() async throws {
        let provisioningEnabled = state.withLockedValue { $0.capabilities.contains(.unmap) }
        var (limits, capabilities) = await probeLimitsAndProvisioning(provisioningEnabled: provisioningEnabled)
        if await supports(.compareAndWrite) != false, await compareAndWriteWorks() {
            capabilities.insert(.compareAndWrite)
        }
        if limits.maximumCompareAndWriteBlocks == 0, capabilities.contains(.compareAndWrite) {
            limits.maximumCompareAndWriteBlocks = 1
        }
        if let result = try? await execute(
            CDB.persistentReserveIn(.reportCapabilities, allocationLength: 8),
            name: "PERSISTENT RESERVE IN",
            expectedDataIn: 8
        ), result.isGood {
            capabilities.insert(.persistentReservations)
        }
        state.withLockedValue { state in
            state.capabilities.formUnion(capabilities)
            if !capabilities.contains(.unmap) { state.capabilities.remove(.unmap) }
            state.limits = limits
        }
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
        if wasOpen, ownsSession { try await session.logout() }
    }

    // MARK: SCSIBlockCommands (read, write and the rest come from its extension)

    public var unitDescription: String { "LUN \(lun) of \(session.portal)" }
    public var isClosed: Bool { state.withLockedValue { $0.closed } }
    public var blockLimits: SCSIBlockLimits { state.withLockedValue { $0.limits } }

    public func runCommand(_ cdb: [UInt8], name: String, dataOut: ByteBuffer?, dataInLength: Int) async throws -> ByteBuffer {
        try await run(cdb, name: name, dataOut: dataOut, expectedDataIn: dataInLength).data
    }

    // MARK: Running commands

    /// Runs a command and returns its result whatever the status; transport errors become BlockDeviceErrors.
    private func execute(_ cdb: [UInt8], name: String, dataOut: ByteBuffer? = nil, expectedDataIn: Int = 0) async throws -> SCSITaskResult {
        do {
            return try await session.execute(SCSITaskRequest(
                lun: lun,
                cdb: cdb,
                dataOut: dataOut,
                expectedDataInLength: expectedDataIn,
                operationName: name
            ))
        } catch let error as ISCSIError {
            let code: BlockDeviceError.Code = error.code == .timeout ? .timeout : .transport
            throw BlockDeviceError(code, "\(name) on \(unitDescription) failed", underlying: error)
        }
    }

    /// Runs a command, retrying after UNIT ATTENTION, and throws unless the status is GOOD.
    private func run(_ cdb: [UInt8], name: String, dataOut: ByteBuffer? = nil, expectedDataIn: Int = 0) async throws -> SCSITaskResult {
        var attempt = 0
        while true {
            let result = try await execute(cdb, name: name, dataOut: dataOut, expectedDataIn: expectedDataIn)
            if result.isGood { return result }
            let sense = result.senseData.isEmpty ? nil : try? SenseData(parsing: result.senseData)
            let failure = SCSICommandError(operation: name, status: SCSIStatus(rawValue: result.status), sense: sense)
            if failure.isUnitAttention, attempt < Self.unitAttentionRetries {
                attempt += 1
                continue
            }
            throw BlockDeviceError(failure, cdb: cdb, object: "\(name) on \(unitDescription)")
        }
    }
}
