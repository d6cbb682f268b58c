// The metrics listener's pipeline on an EmbeddedChannel: 200, 404, 405, a body refused, 413.

import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
@testable import Daemon

@Suite struct MetricsHTTPHandlerTests {
    /// A channel with the listener's handlers, as `MetricsListener` installs them.
    private func channel(render: @escaping @Sendable () -> String = { "vdiskd_up 1\n" }) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        let budget = MetricsRequestBudget()
        let pipeline = channel.pipeline.syncOperations
        try pipeline.addHandler(MetricsRequestLimiter(budget: budget))
        try pipeline.configureHTTPServerPipeline(withErrorHandling: true)
        try pipeline.addHandler(MetricsHTTPHandler(budget: budget, render: render))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40000)).wait()
        return channel
    }

    /// Everything the server wrote back for `request`.
    private func exchange(_ channel: EmbeddedChannel, _ request: String) throws -> String {
        try channel.writeInbound(ByteBuffer(string: request))
        var answer = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
            answer += String(buffer: buffer)
        }
        return answer
    }

    @Test func getMetricsAnswersTheExpositionAndKeepsTheConnection() throws {
        let channel = try channel()
        let answer = try exchange(channel, "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
        #expect(answer.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(answer.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"))
        #expect(answer.hasSuffix("\r\n\r\nvdiskd_up 1\n"))
        // Keep-alive: a second scrape on the same connection works too.
        #expect(try exchange(channel, "GET /metrics?x=1 HTTP/1.1\r\nHost: localhost\r\n\r\n").hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(channel.isActive)
    }

    @Test func otherPathsAre404AndOtherMethods405() throws {
        let channel = try channel()
        let missing = try exchange(channel, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        #expect(missing.hasPrefix("HTTP/1.1 404 Not Found\r\n"))
        #expect(missing.hasSuffix("not found: this listener serves GET /metrics only\n"))
        let other = try self.channel()
        let post = try exchange(other, "DELETE /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
        #expect(post.hasPrefix("HTTP/1.1 405 Method Not Allowed\r\n"))
        #expect(post.contains("Allow: GET, HEAD\r\n"))
    }

    @Test func aRequestWithABodyIs400() throws {
        let channel = try channel()
        let answer = try exchange(channel, "GET /metrics HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\n\r\nabcd")
        #expect(answer.hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
    }

    @Test func malformedHTTPIs400() throws {
        let channel = try channel()
        #expect(channel.isActive)
        let answer = try exchange(channel, "NOT HTTP AT ALL\r\n\r\n")
        #expect(answer.hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        #expect(!channel.isActive)
    }

    @Test func anOversizedRequestIs413AndNotBuffered() throws {
        let channel = try channel(render: { Issue.record("an oversized request reached the handler"); return "" })
        let header = "X-Filler: " + String(repeating: "a", count: MetricsRequestLimiter.maximumRequestBytes) + "\r\n"
        #expect(channel.isActive)
        let answer = try exchange(channel, "GET /metrics HTTP/1.1\r\nHost: localhost\r\n" + header + "\r\n")
        #expect(answer.hasPrefix("HTTP/1.1 413 Content Too Large\r\n"))
        #expect(!channel.isActive)
    }

    @Test func theBudgetIsPerRequestNotPerConnection() throws {
        let channel = try channel()
        // Many small scrapes on one connection add up past the limit without tripping it.
        let request = "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n"
        let count = MetricsRequestLimiter.maximumRequestBytes / request.utf8.count + 10
        for _ in 0..<count {
            #expect(try exchange(channel, request).hasPrefix("HTTP/1.1 200 OK\r\n"))
        }
    }
}
