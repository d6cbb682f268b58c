// What a target connection's state machine is set up with: the negotiated session
// parameters and the export's limits and timers.

import ISCSI
import NIOCore

extension TargetConnectionStateMachine {
    struct Configuration {
        var parameters: TargetSessionParameters
        var sessionType: SessionType
        var connectionID: UInt16 = 0
        var commandWindow: UInt32 = 64
        /// Largest EDTL accepted; more would make us buffer too much for one command.
        var maximumTransferLength: Int = 64 << 20
        /// Immediate commands allowed in flight besides the window.
        var maximumImmediateTasks: Int = 16
        /// LUN fields (8 bytes, as on the wire) that exist, for task management.
        var luns: Set<UInt64>
        /// The SendTargets answer for a query value ("All", an IQN, or empty).
        var sendTargets: @Sendable (String) -> [TextKeyValue]
        /// Send a NOP-In after this much silence; nil turns pings off.
        var pingInterval: TimeAmount? = .seconds(15)
        /// Drop the connection when a ping is not answered within this.
        var pingTimeout: TimeAmount = .seconds(10)
        /// Write-budget bytes this connection may hold at once (TASK SET FULL past it).
        var connectionWriteBudget: Int = 128 << 20
        /// The export's budget, shared by its connections (BUSY when spent); nil: none.
        var exportWriteBudget: ExportWriteBudget?
        /// A write whose Data-Out stops arriving for this long is failed; nil: never.
        var dataPhaseTimeout: TimeAmount? = .seconds(20)
        /// Close the connection when the initiator sends no request (a NOP-Out ping or
        /// its answer aside) for this long; nil: never. Discovery sessions get one.
        var idleTimeout: TimeAmount? = nil
    }
}
