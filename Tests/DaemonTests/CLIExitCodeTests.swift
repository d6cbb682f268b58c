// vdiskctl's one exit-code table: each failure class exits the same way whichever command,
// and whichever layer's error, reports it.

import BlockDevice
import Control
import Daemon
import Datastore
import ISCSI
import Testing
@testable import VDiskCLI

@Suite struct CLIExitCodeTests {
    @Test func aTransportFailureIsUnavailableFromEveryLayer() {
        let iscsi = ISCSIError(.connectionClosed, scope: .connection, "127.0.0.1:3260 closed the connection")
        #expect(CLIExitCode.of(iscsi) == CLIExitCode.unavailable)
        #expect(CLIExitCode.of(BlockDeviceError(.transport, "connection lost")) == CLIExitCode.unavailable)
        #expect(CLIExitCode.of(BlockDeviceError(.deviceError, "wrapped", underlying: iscsi)) == CLIExitCode.unavailable)
        #expect(CLIExitCode.of(ControlClientError(code: .notRunning, message: "no daemon")) == CLIExitCode.unavailable)
        // The datastore commands' own wrapper gives the same class.
        #expect(DatastoreCommandError(describing: BlockDeviceError(.transport, "connection lost")).exitCode == CLIExitCode.unavailable)
    }

    @Test func refusalsTimeoutsAndUsageAgreeAcrossLayers() {
        #expect(CLIExitCode.of(ISCSIError(.authenticationFailed, scope: .session, "CHAP")) == CLIExitCode.refused)
        #expect(CLIExitCode.of(BlockDeviceError(.fenced, "fenced")) == CLIExitCode.refused)
        #expect(CLIExitCode.of(DatastoreError(.fenced, "fenced")) == CLIExitCode.refused)
        #expect(CLIExitCode.of(ControlClientError(code: .permissionDenied, message: "socket")) == CLIExitCode.refused)
        #expect(CLIExitCode.of(ISCSIError(.timeout, scope: .task, "slow")) == CLIExitCode.timeout)
        #expect(CLIExitCode.of(BlockDeviceError(.timeout, "slow")) == CLIExitCode.timeout)
        #expect(CLIExitCode.of(DatastoreError(.busy, "busy")) == CLIExitCode.timeout)
        #expect(CLIExitCode.of(BlockDeviceError(.outOfRange, "past the end")) == CLIExitCode.usage)
        #expect(CLIExitCode.of(DatastoreError(.corrupt, "bad CRC")) == CLIExitCode.deviceError)
        #expect(CLIExitCode.of(BlockDeviceError(.mediumError, "unrecovered read")) == CLIExitCode.deviceError)
        #expect(CLIExitCode.of(CLIError("bad flag", exitCode: CLIExitCode.usage)) == CLIExitCode.usage)
    }
}
