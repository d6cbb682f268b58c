// An image file whose writes to one LBA wait at a gate the test opens: a command that is
// provably inside the device while the test aborts it.

import BlockDevice
import NIOCore
import SCSI
import Synchronization

/// The gate, shared between the test and the device it wraps.
final class DeviceGate: Sendable {
    private struct State {
        var open = false
        var entered = 0
        var finished = 0
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// Writes that reached the gate, and writes that went through to the file.
    var entered: Int { state.withLock { $0.entered } }
    var finished: Int { state.withLock { $0.finished } }

    func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    fileprivate func pass() async {
        await withCheckedContinuation { continuation in
            let proceed = state.withLock { state in
                state.entered += 1
                if !state.open { state.waiters.append(continuation) }
                return state.open
            }
            if proceed { continuation.resume() }
        }
    }

    fileprivate func went() {
        state.withLock { $0.finished += 1 }
    }
}

/// Forwards everything to `inner`, except that a write starting at `gatedLBA` first waits for the gate.
final class GatedBlockDevice: ForwardingBlockDevice {
    let inner: FileBlockDevice
    var base: any BlockDevice { inner }
    let gatedLBA: UInt64
    let gate: DeviceGate

    init(_ inner: FileBlockDevice, gatedLBA: UInt64, gate: DeviceGate) {
        self.inner = inner
        self.gatedLBA = gatedLBA
        self.gate = gate
    }

    func write(_ data: ByteBuffer, at lba: UInt64, fua: Bool) async throws {
        guard lba == gatedLBA else { return try await inner.write(data, at: lba, fua: fua) }
        await gate.pass()
        try await inner.write(data, at: lba, fua: fua)
        gate.went()
    }
}
