// SIGTERM and SIGINT as a polite request: a long-running command finishes the write in
// flight and unmounts cleanly, so its locks go at once instead of after a lease.

import Dispatch
import Foundation
import Synchronization

final class StopRequest: Sendable {
    /// The flag lives apart from the sources so handlers can hold it before init ends.
    private final class Flag: Sendable {
        let requested = Mutex(false)
    }

    private let flag = Flag()
    /// Set once in init; DispatchSource's cancel() is thread-safe, so sharing them is sound.
    nonisolated(unsafe) private let sources: [any DispatchSourceSignal]

    /// Starts catching SIGTERM and SIGINT; the default actions are off until `release()`.
    init() {
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [flag] in flag.requested.withLock { $0 = true } }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    var isRequested: Bool { flag.requested.withLock { $0 } }

    func release() {
        for source in sources { source.cancel() }
        signal(SIGTERM, SIG_DFL)
        signal(SIGINT, SIG_DFL)
    }
}
