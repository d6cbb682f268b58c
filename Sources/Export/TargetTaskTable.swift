// The tasks one target connection holds, with what they count against: immediate
// commands beside the CmdSN window, and write-budget bytes of the connection and the export.

import NIOCore
import SCSI

/// The task table of one connection, keyed by Initiator Task Tag. Every way out of it
/// settles the task's immediate count and gives its write budget back.
struct TargetTaskTable {
    private var tasks: [UInt32: TargetTask] = [:]
    /// Tasks sent with the I bit, counted apart from the CmdSN window.
    private(set) var immediateCount = 0
    /// Write-budget bytes held by this connection's tasks.
    private var chargedWriteBytes = 0
    private let connectionWriteBudget: Int
    private let exportWriteBudget: ExportWriteBudget?

    init(connectionWriteBudget: Int, exportWriteBudget: ExportWriteBudget?) {
        self.connectionWriteBudget = connectionWriteBudget
        self.exportWriteBudget = exportWriteBudget
    }

    var count: Int { tasks.count }
    var isEmpty: Bool { tasks.isEmpty }

    subscript(tag: UInt32) -> TargetTask? { tasks[tag] }

    /// Adds a new task; its tag must be free.
    mutating func insert(_ task: TargetTask, tag: UInt32) {
        precondition(tasks[tag] == nil, "task 0x\(String(tag, radix: 16)) is already in the table")
        if task.immediate { immediateCount += 1 }
        tasks[tag] = task
    }

    /// Stores a task that is already in the table, changed.
    mutating func update(_ task: TargetTask, tag: UInt32) {
        precondition(tasks[tag] != nil, "task 0x\(String(tag, radix: 16)) is not in the table")
        tasks[tag] = task
    }

    /// Takes a task out, settling its immediate count and write budget.
    mutating func remove(_ tag: UInt32) -> TargetTask? {
        guard let task = tasks.removeValue(forKey: tag) else { return nil }
        if task.immediate { immediateCount -= 1 }
        if task.bufferCharge > 0 {
            chargedWriteBytes -= task.bufferCharge
            exportWriteBudget?.release(task.bufferCharge)
        }
        return task
    }

    /// The write reception of a task still receiving, taken out of the table so that the
    /// caller holds the only reference to its buffer and appends in place (otherwise every
    /// PDU would copy everything received so far). Put it back with `returnWrite`.
    mutating func takeWrite(_ tag: UInt32) -> WriteReception? {
        guard tasks[tag]?.phase == .receiving, let write = tasks[tag]?.write else { return nil }
        tasks[tag]?.write = nil
        return write
    }

    mutating func returnWrite(_ write: WriteReception, tag: UInt32) {
        tasks[tag]?.write = write
    }

    /// Aborts one task: one still receiving leaves the table, one handed to its unit stays
    /// as aborted so that its response is dropped when it comes.
    mutating func abort(_ tag: UInt32) {
        guard var task = tasks[tag] else { return }
        switch task.phase {
        case .receiving:
            _ = remove(tag)
        case .executing, .aborted:
            task.phase = .aborted
            tasks[tag] = task
        }
    }

    /// Aborts every task on a LUN that `matches`.
    mutating func abortAll(onLUN matches: (UInt64) -> Bool) {
        for (tag, task) in tasks where matches(task.lun) {
            abort(tag)
        }
    }

    /// Charges a new write against this connection's budget and the export's; the status
    /// to answer with when either is spent (TASK SET FULL for this connection's, BUSY for
    /// the export's, SAM-5 §5.3.1).
    mutating func chargeWrite(_ charge: Int) -> SCSIStatus? {
        // A connection's only write always passes its own budget (the EDTL limit bounds it),
        // so a budget below the largest write cannot refuse that write for ever.
        guard chargedWriteBytes == 0 || chargedWriteBytes + charge <= connectionWriteBudget else {
            exportWriteBudget?.countConnectionRefusal()
            return .taskSetFull
        }
        if let exportWriteBudget, !exportWriteBudget.charge(charge) { return .busy }
        chargedWriteBytes += charge
        return nil
    }

    /// Tags of the writes whose Data-Out has not moved for `timeout`, in order.
    func stalledWrites(now: NIODeadline, timeout: TimeAmount) -> [UInt32] {
        tasks.compactMap { tag, task -> UInt32? in
            guard task.phase == .receiving, let write = task.write, now - write.lastProgress >= timeout else { return nil }
            return tag
        }.sorted()
    }

    /// The connection is gone: what is still running will find no task, and the write
    /// budget the tasks held goes back to the export.
    mutating func removeAll() {
        tasks.removeAll()
        immediateCount = 0
        exportWriteBudget?.release(chargedWriteBytes)
        chargedWriteBytes = 0
    }
}
