// Bounds the bytes of one HTTP request on the metrics listener before the HTTP decoder buffers them.

import NIOCore

/// The bytes received since the last request was answered; shared by the limiter at the front of a
/// connection's pipeline and the handler at its end, both on the channel's event loop.
final class MetricsRequestBudget {
    var received = 0
}

/// Sits first in the pipeline: once a request passes `maximumRequestBytes` without an answer, it
/// answers 413 itself and closes, so a client cannot make the daemon buffer an endless header.
final class MetricsRequestLimiter: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// A scrape is one short GET line and a few headers; 16 KiB is far more than any needs.
    static let maximumRequestBytes = 16 * 1024

    private let budget: MetricsRequestBudget
    private var refused = false

    init(budget: MetricsRequestBudget) {
        self.budget = budget
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        let buffer = unwrapInboundIn(data)
        budget.received += buffer.readableBytes
        guard budget.received <= Self.maximumRequestBytes else {
            refused = true
            let text = "request larger than \(Self.maximumRequestBytes) bytes\n"
            let answer = "HTTP/1.1 413 Content Too Large\r\nContent-Type: text/plain\r\nContent-Length: \(text.utf8.count)\r\nConnection: close\r\n\r\n\(text)"
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(NIOAny(ByteBuffer(string: answer))).whenComplete { _ in bound.value.close(promise: nil) }
            return
        }
        context.fireChannelRead(data)
    }
}
