// Out of file descriptors, a listening socket stays readable (its backlog is full of
// connections it cannot accept), so epoll wakes the loop at once, every time. Waiting
// for descriptors to come back must therefore take the socket out of epoll, not merely
// decline to read: this handler turns `autoRead` off for a pause and on again after it.
//
// NIO's own `AcceptBackoffHandler` only withholds the next `read()`. After a failed
// accept the channel's read stays pending (only a successful accept clears it), so the
// socket stays registered for readability and the loop spins on EMFILE at 100 % of a
// core until a descriptor frees up. Measured: a whole core for the 3 s of
// `ExportDescriptorLimitTests`.

import Glibc
import Logging
import NIOCore

/// Pauses accepting for `pause` after an accept fails for want of descriptors or memory.
public final class AcceptPauseHandler: ChannelInboundHandler {
    public typealias InboundIn = any Channel
    public typealias InboundOut = any Channel

    /// How long accepting stops after a failure; the backlog holds new connections meanwhile.
    public static let defaultPause = TimeAmount.seconds(1)

    private let pause: TimeAmount
    private let logger: Logger
    private var resume: Scheduled<Void>?
    /// Pauses since the last warning; a warning goes out at most once a minute.
    private var pausesSinceWarning = 0
    private var lastWarning: NIODeadline?

    public init(pause: TimeAmount = AcceptPauseHandler.defaultPause, logger: Logger) {
        self.pause = pause
        self.logger = logger
    }

    /// Whether an accept error is a lack of resources that waiting can cure.
    static func isExhaustion(_ error: any Error) -> Bool {
        guard let error = error as? IOError else { return false }
        switch error.errnoCode {
        case EMFILE, ENFILE, ENOBUFS, ENOMEM: return true
        default: return false
        }
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard Self.isExhaustion(error) else {
            context.fireErrorCaught(error)
            return
        }
        pausesSinceWarning += 1
        let now = NIODeadline.now()
        if lastWarning.map({ now - $0 >= .minutes(1) }) ?? true {
            logger.warning(
                "accept failed, pausing new connections",
                metadata: ["error": "\(error)", "pause": "\(pause)", "pauses": "\(pausesSinceWarning)"]
            )
            lastWarning = now
            pausesSinceWarning = 0
        }
        guard resume == nil else { return }
        // Off epoll for the pause: turning autoRead off unregisters the socket's readability.
        let channel = context.channel
        try? channel.syncOptions?.setOption(.autoRead, value: false)
        resume = context.eventLoop.assumeIsolated().scheduleTask(in: pause) { [weak self] in
            self?.resume = nil
            // Turning it on again registers for readability and reads (accepts) at once.
            try? channel.syncOptions?.setOption(.autoRead, value: true)
        }
    }

    public func channelInactive(context: ChannelHandlerContext) {
        resume?.cancel()
        resume = nil
        context.fireChannelInactive()
    }
}
