// The CmdSN window and serial arithmetic, including wrap-around and stale updates.

import ISCSI
import Testing

@Suite struct CommandWindowTests {
    @Test func serialComparisonWrapsAround() {
        #expect(SerialNumber(1) < SerialNumber(2))
        #expect(SerialNumber(0xFFFF_FFFF) < SerialNumber(0))
        #expect(!(SerialNumber(0) < SerialNumber(0xFFFF_FFFF)))
        #expect(!(SerialNumber(5) < SerialNumber(5)))
        // Exactly 2^31 apart: incomparable both ways.
        #expect(!(SerialNumber(0) < SerialNumber(0x8000_0000)))
        #expect(!(SerialNumber(0x8000_0000) < SerialNumber(0)))
        #expect(SerialNumber(10).distance(to: SerialNumber(14)) == 4)
        #expect(SerialNumber(14).distance(to: SerialNumber(10)) == nil)
    }

    @Test func windowOpensAndCloses() {
        var window = CommandWindow(cmdSN: 10, expCmdSN: 10, maxCmdSN: 11, expStatSN: 1)
        #expect(window.available == 2)
        #expect(window.takeCmdSN() == 10)
        #expect(window.takeCmdSN() == 11)
        #expect(!window.isOpen)
        #expect(window.available == 0)
        #expect(window.immediateCmdSN == 12)
        // The target completes one and opens by one.
        let grew = window.update(expCmdSN: 11, maxCmdSN: 12)
        #expect(grew)
        #expect(window.available == 1)
    }

    @Test func closedWindowWithMaxOneBehindExpIsValid() {
        var window = CommandWindow(cmdSN: 5, expCmdSN: 5, maxCmdSN: 10, expStatSN: 0)
        // MaxCmdSN = ExpCmdSN - 1 is a legal, closed window, but values never move backwards.
        let grew = window.update(expCmdSN: 5, maxCmdSN: 4)
        #expect(!grew)
        #expect(window.maxCmdSN == SerialNumber(10))
    }

    @Test func invalidPairIsIgnored() {
        var window = CommandWindow(cmdSN: 5, expCmdSN: 5, maxCmdSN: 10, expStatSN: 0)
        // MaxCmdSN < ExpCmdSN - 1: both values are ignored.
        let grew = window.update(expCmdSN: 20, maxCmdSN: 15)
        #expect(!grew)
        #expect(window.expCmdSN == SerialNumber(5))
        #expect(window.maxCmdSN == SerialNumber(10))
    }

    @Test func staleUpdatesDoNotShrinkTheWindow() {
        var window = CommandWindow(cmdSN: 100, expCmdSN: 100, maxCmdSN: 131, expStatSN: 0)
        window.update(expCmdSN: 110, maxCmdSN: 141)
        window.update(expCmdSN: 105, maxCmdSN: 136)
        #expect(window.expCmdSN == SerialNumber(110))
        #expect(window.maxCmdSN == SerialNumber(141))
    }

    @Test func windowAcrossTheWrap() {
        var window = CommandWindow(cmdSN: 0xFFFF_FFFE, expCmdSN: 0xFFFF_FFFE, maxCmdSN: 1, expStatSN: 0)
        #expect(window.available == 4)
        #expect(window.takeCmdSN() == 0xFFFF_FFFE)
        #expect(window.takeCmdSN() == 0xFFFF_FFFF)
        #expect(window.takeCmdSN() == 0)
        #expect(window.takeCmdSN() == 1)
        #expect(!window.isOpen)
        window.update(expCmdSN: 2, maxCmdSN: 33)
        #expect(window.available == 32)
    }

    @Test func statSNAcknowledgement() {
        var window = CommandWindow(cmdSN: 1, expCmdSN: 1, maxCmdSN: 1, expStatSN: 7)
        window.acknowledge(statSN: 7)
        #expect(window.expStatSN == SerialNumber(8))
        window.acknowledge(statSN: 5)  // old status never moves it back
        #expect(window.expStatSN == SerialNumber(8))
        window.observe(nextStatSN: 8)  // a NOP-In's "next StatSN" consumes nothing
        #expect(window.expStatSN == SerialNumber(8))
        window.observe(nextStatSN: 9)
        #expect(window.expStatSN == SerialNumber(9))
    }

    @Test func expCmdSNPastOurCmdSNPullsItForward() {
        // istgt advances ExpCmdSN for an immediate Text Request; our next CmdSN must follow.
        var window = CommandWindow(cmdSN: 5, expCmdSN: 5, maxCmdSN: 20, expStatSN: 0)
        window.update(expCmdSN: 6, maxCmdSN: 21)
        #expect(window.takeCmdSN() == 6)
        #expect(window.available == 15)
    }
}
