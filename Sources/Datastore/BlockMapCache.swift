// The in-memory copy of an open disk's pointer pages, bounded in bytes.

import NIOConcurrencyHelpers

/// Pointer pages by device offset. Lookups are one dictionary probe plus one array
/// index; when the byte bound is reached the oldest-inserted pages go first.
final class BlockMapCache: Sendable {
    /// What one cached page costs: its 509 pointers plus bookkeeping.
    static let bytesPerPage = VolumeLayout.pointersPerPage * 8 + 64

    private struct State {
        var pages: [UInt64: [UInt64]] = [:]
        var insertionOrder: [UInt64] = []
        var head = 0
    }

    private let state = NIOLockedValueBox(State())
    let maximumPages: Int

    init(byteLimit: Int) {
        maximumPages = max(4, byteLimit / Self.bytesPerPage)
    }

    func pointer(page offset: UInt64, entry: Int) -> UInt64? {
        state.withLockedValue { $0.pages[offset]?[entry] }
    }

    func insert(page offset: UInt64, pointers: [UInt64]) {
        state.withLockedValue { state in
            if state.pages.updateValue(pointers, forKey: offset) == nil {
                state.insertionOrder.append(offset)
            }
            while state.pages.count > maximumPages, state.head < state.insertionOrder.count {
                state.pages.removeValue(forKey: state.insertionOrder[state.head])
                state.head += 1
            }
            if state.head > 1024, state.head * 2 > state.insertionOrder.count {
                state.insertionOrder.removeFirst(state.head)
                state.head = 0
            }
        }
    }

    func removeAll() {
        state.withLockedValue { $0 = State() }
    }

    /// Bytes the cache holds now (for benchmarks and `disk info`).
    var residentBytes: Int { state.withLockedValue { $0.pages.count * Self.bytesPerPage } }
}
