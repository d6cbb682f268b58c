// The export-wide budget of write data held in memory: every connection charges the
// most a write's buffer can occupy before it asks for that write's data, and gives it
// back when the task ends, so all buffered Data-Out together stays under one limit.

import NIOConcurrencyHelpers

/// Bytes of Data-Out the export may buffer at once across its connections, with the
/// count of writes it turned away and of writes whose data stopped coming.
public final class ExportWriteBudget: Sendable {
    /// The most bytes that may be charged at once.
    public let limit: Int
    private let state = NIOLockedValueBox(Counts())

    struct Counts {
        var charged = 0
        var peak = 0
        var refusedForExport = 0
        var refusedForConnection = 0
        var dataTimeouts = 0
    }

    public init(limit: Int) {
        precondition(limit >= 0, "a write budget cannot be negative")
        self.limit = limit
    }

    /// Charges `bytes` when they fit, or when nothing is charged (one write larger than the
    /// whole budget still goes through, alone); false (and a refusal counted) otherwise.
    func charge(_ bytes: Int) -> Bool {
        state.withLockedValue { counts in
            guard counts.charged == 0 || counts.charged + bytes <= limit else {
                counts.refusedForExport += 1
                return false
            }
            counts.charged += bytes
            counts.peak = max(counts.peak, counts.charged)
            return true
        }
    }

    func release(_ bytes: Int) {
        state.withLockedValue { counts in
            precondition(counts.charged >= bytes, "released \(bytes) bytes of write budget with only \(counts.charged) charged")
            counts.charged -= bytes
        }
    }

    func countConnectionRefusal() {
        state.withLockedValue { $0.refusedForConnection += 1 }
    }

    func countDataTimeout() {
        state.withLockedValue { $0.dataTimeouts += 1 }
    }

    /// Bytes charged right now.
    public var charged: Int { state.withLockedValue { $0.charged } }
    /// The most bytes ever charged at once.
    public var peak: Int { state.withLockedValue { $0.peak } }
    /// Writes answered BUSY because the export's budget was spent.
    public var refusedForExport: Int { state.withLockedValue { $0.refusedForExport } }
    /// Writes answered TASK SET FULL because their connection's budget was spent.
    public var refusedForConnection: Int { state.withLockedValue { $0.refusedForConnection } }
    /// Writes failed because their Data-Out stopped arriving.
    public var dataTimeouts: Int { state.withLockedValue { $0.dataTimeouts } }

    /// What a write buffer of `expectedLength` bytes may grow to: buffers grow by doubling
    /// as data arrives, so the charge is the power of two that holds the whole write.
    static func charge(forExpectedLength expectedLength: Int) -> Int {
        guard expectedLength > 0 else { return 0 }
        var capacity = 1
        while capacity < expectedLength { capacity <<= 1 }
        return capacity
    }
}
