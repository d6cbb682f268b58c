// One SCSI command handed to libiscsi: the scsi_task, the buffers libiscsi reads
// from and writes into, the caller's continuation and its deadline.

import CLibISCSI
import NIOCore
import SCSI

/// A command in flight on one `LibISCSIEventLoop`.
///
/// Built by the caller, then touched only on the loop thread. libiscsi holds a
/// retained reference (its callback's private pointer) from submission until its
/// callback runs, so the buffers it points into outlive every path through
/// libiscsi, including a caller that gave up early (deadline, cancellation) and a
/// command libiscsi re-sends after a reconnect.
final class LibISCSICommand: @unchecked Sendable {
    enum Transfer {
        case none
        case read(length: Int)
        case write(ByteBuffer)
    }

    /// Why a command ended before libiscsi's callback said how.
    enum Abandonment {
        case deadline
        case cancelled
    }

    let cdb: [UInt8]
    let name: String
    let lun: Int
    let transfer: Transfer
    let deadline: NIODeadline

    /// Nil once the caller has been answered.
    var continuation: CheckedContinuation<LibISCSICommandResult, any Error>?
    var task: UnsafeMutablePointer<scsi_task>?
    /// Where libiscsi scatters Data-In: ours, so nothing is reassembled twice.
    var dataIn: UnsafeMutableRawBufferPointer?
    /// Keeps the caller's Data-Out bytes alive while libiscsi may still send them.
    var dataOutStorage: Unmanaged<AnyObject>?
    /// The command's index in the loop's table, while it is there.
    var slot: Int?
    var abandonment: Abandonment?
    /// The loop running the command, from submission to libiscsi's callback.
    var loop: LibISCSIEventLoop?

    init(cdb: [UInt8], name: String, lun: Int, transfer: Transfer, deadline: NIODeadline) {
        self.cdb = cdb
        self.name = name
        self.lun = lun
        self.transfer = transfer
        self.deadline = deadline
    }

    var expectedTransferLength: Int {
        switch transfer {
        case .none: 0
        case .read(let length): length
        case .write(let buffer): buffer.readableBytes
        }
    }

    /// Answers the caller once; later answers (libiscsi's late callback) are dropped.
    func resume(with result: Result<LibISCSICommandResult, any Error>) {
        guard let continuation else { return }
        self.continuation = nil
        continuation.resume(with: result)
    }

    /// Frees what libiscsi no longer uses; called from libiscsi's callback only.
    func releaseResources() {
        if let task {
            scsi_free_scsi_task(task)
            self.task = nil
        }
        dataIn?.deallocate()
        dataIn = nil
        dataOutStorage?.release()
        dataOutStorage = nil
    }
}
