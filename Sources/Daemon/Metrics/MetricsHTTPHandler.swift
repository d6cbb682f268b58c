// Answers one HTTP/1.1 request on the metrics listener: GET /metrics, or an error status.

import NIOCore
import NIOHTTP1

/// `GET /metrics` (or HEAD) gets the exposition; any other path 404, any other method 405.
/// A request with a body is refused with 400: a scrape has none.
final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    private let budget: MetricsRequestBudget
    private let render: @Sendable () -> String
    private var head: HTTPRequestHead?
    private var hasBody = false

    init(budget: MetricsRequestBudget, render: @escaping @Sendable () -> String) {
        self.budget = budget
        self.render = render
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            hasBody = false
        case .body(let buffer):
            hasBody = hasBody || buffer.readableBytes > 0
        case .end:
            guard let head else { return }
            self.head = nil
            budget.received = 0
            let (status, body) = answer(head)
            respond(context: context, head: head, status: status, body: body)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    /// Malformed HTTP (already answered 400 by NIO's error handler) or a socket error: this
    /// connection ends; the listener and every other connection go on.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func answer(_ head: HTTPRequestHead) -> (HTTPResponseStatus, String) {
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        guard path == "/metrics" else {
            return (.notFound, "not found: this listener serves GET /metrics only\n")
        }
        guard head.method == .GET || head.method == .HEAD else {
            return (.methodNotAllowed, "method \(head.method) not allowed: use GET\n")
        }
        guard !hasBody else {
            return (.badRequest, "a GET /metrics request has no body\n")
        }
        return (.ok, render())
    }

    private func respond(context: ChannelHandlerContext, head: HTTPRequestHead, status: HTTPResponseStatus, body: String) {
        let keepAlive = head.isKeepAlive && status == .ok
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: status == .ok ? Self.contentType : "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: "\(body.utf8.count)")
        if status == .methodNotAllowed { headers.add(name: "Allow", value: "GET, HEAD") }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        if head.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
        }
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            written.whenComplete { _ in bound.value.close(promise: nil) }
        }
    }
}
