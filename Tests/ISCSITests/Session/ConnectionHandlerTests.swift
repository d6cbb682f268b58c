// ISCSIConnectionHandler without sockets: login timeout, keepalive and CmdSN window timing
// on an EmbeddedChannel whose virtual clock the test moves by hand.

import NIOCore
import NIOEmbedded
import Testing

@testable import ISCSI

@Suite struct ConnectionHandlerTests {
    private static let tick = TimeAmount.nanoseconds(1)

    private func expectTimeout(
        _ result: Result<some Sendable, any Error>?,
        _ fragments: String...,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard case .failure(let error)? = result else {
            Issue.record("expected a failure, got \(String(describing: result))", sourceLocation: sourceLocation)
            return
        }
        expectISCSIError(error, .timeout, .connection, fragments: fragments, sourceLocation: sourceLocation)
    }

    @Test func loginTimesOutExactlyAtTheDeadline() throws {
        let peer = try EmbeddedTargetPeer(loginTimeout: .seconds(5))
        #expect(try peer.received().map(\.opcode) == [.loginRequest])

        peer.loop.advanceTime(by: .seconds(5) - Self.tick)
        #expect(peer.outcome(peer.loginPromise.futureResult) == nil)
        #expect(peer.channel.isActive)

        peer.loop.advanceTime(by: Self.tick)
        expectTimeout(peer.outcome(peer.loginPromise.futureResult), "login to \(Fixture.target) timed out after 5 s")
        #expect(!peer.channel.isActive)
    }

    @Test func keepalivePingsAfterTheIntervalAndFailsCommandsOnSilence() throws {
        let peer = try EmbeddedTargetPeer(keepaliveInterval: .seconds(5), keepaliveTimeout: .seconds(5))
        try peer.logIn()
        let read = peer.submit(.read(blocks: 1))
        guard case .scsiCommand(let command) = try peer.received().first else {
            Issue.record("the READ did not go out")
            return
        }

        peer.loop.advanceTime(by: .seconds(5) - Self.tick)
        #expect(try peer.received().isEmpty)
        peer.loop.advanceTime(by: Self.tick)
        guard case .nopOut(let ping) = try peer.received().first else {
            Issue.record("no NOP-Out after 5 s of silence")
            return
        }
        #expect(ping.initiatorTaskTag != reservedTag)
        #expect(ping.targetTransferTag == reservedTag)
        #expect(ping.immediate)
        #expect(ping.cmdSN == command.cmdSN &+ 1)

        peer.loop.advanceTime(by: .seconds(5) - Self.tick)
        #expect(peer.outcome(read) == nil)
        #expect(peer.channel.isActive)
        peer.loop.advanceTime(by: Self.tick)
        expectTimeout(peer.outcome(read), "did not answer a NOP-Out ping; nothing received for 10.0 s")
        #expect(!peer.channel.isActive)
        guard case .connectionLost(let error)? = peer.events.first else {
            Issue.record("no connection-lost event: \(peer.events)")
            return
        }
        #expect(error.code == .timeout)
    }

    @Test func anyPDUFromTheTargetPostponesThePing() throws {
        let peer = try EmbeddedTargetPeer(keepaliveInterval: .seconds(5), keepaliveTimeout: .seconds(5))
        try peer.logIn()

        peer.loop.advanceTime(by: .seconds(4))
        try peer.send(.nopIn(NOPIn(initiatorTaskTag: reservedTag, statSN: 12, expCmdSN: Fixture.cmdSN, maxCmdSN: Fixture.cmdSN &+ 31)))
        // Five seconds count from the target's last PDU (t = 4 s), not from login.
        peer.loop.advanceTime(by: .seconds(5) - Self.tick)
        #expect(try peer.received().isEmpty)
        peer.loop.advanceTime(by: Self.tick)
        guard case .nopOut(let ping) = try peer.received().first else {
            Issue.record("no NOP-Out at t = 9 s")
            return
        }

        // Answered one second later: the connection stays up and the next ping is due 5 s after the answer.
        peer.loop.advanceTime(by: .seconds(1))
        try peer.send(.nopIn(NOPIn(
            initiatorTaskTag: ping.initiatorTaskTag,
            statSN: 12,
            expCmdSN: Fixture.cmdSN,
            maxCmdSN: Fixture.cmdSN &+ 31
        )))
        peer.loop.advanceTime(by: .seconds(5) - Self.tick)
        #expect(try peer.received().isEmpty)
        #expect(peer.channel.isActive)
        peer.loop.advanceTime(by: Self.tick)
        guard case .nopOut(let second) = try peer.received().first else {
            Issue.record("no second NOP-Out at t = 15 s")
            return
        }
        #expect(second.initiatorTaskTag != ping.initiatorTaskTag)
        #expect(peer.events.isEmpty)
    }

    @Test func closedWindowHoldsCommandsUntilMaxCmdSNGrows() throws {
        let peer = try EmbeddedTargetPeer()
        try peer.logIn(window: 0)
        let first = peer.submit(.testUnitReady())
        #expect(try peer.received().isEmpty)

        // A NOP-In moving MaxCmdSN up to ExpCmdSN opens a window of one.
        try peer.send(.nopIn(NOPIn(initiatorTaskTag: reservedTag, statSN: 12, expCmdSN: Fixture.cmdSN, maxCmdSN: Fixture.cmdSN)))
        guard case .scsiCommand(let command) = try peer.received().first else {
            Issue.record("the held command did not go out when the window opened")
            return
        }
        #expect(command.cmdSN == Fixture.cmdSN)

        let second = peer.submit(.testUnitReady())
        #expect(try peer.received().isEmpty, "a second command went out through a window of one")

        try peer.send(.scsiResponse(SCSIResponse(
            status: 0,
            initiatorTaskTag: command.initiatorTaskTag,
            statSN: 12,
            expCmdSN: Fixture.cmdSN &+ 1,
            maxCmdSN: Fixture.cmdSN &+ 1
        )))
        guard case .success(let result)? = peer.outcome(first) else {
            Issue.record("the first command did not complete")
            return
        }
        #expect(result.isGood)
        guard case .scsiCommand(let next) = try peer.received().first else {
            Issue.record("the second command did not follow the first's response")
            return
        }
        #expect(next.cmdSN == Fixture.cmdSN &+ 1)
        #expect(next.expStatSN == 13)
        #expect(peer.outcome(second) == nil)
    }
}
