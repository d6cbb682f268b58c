// The revocation counter behind `revokeOutstandingCommands`: a command marked before a
// revocation fails its check as fenced naming the reason; one marked after goes on.

import BlockDevice
import Testing

@Suite struct CommandRevocationTests {
    @Test func aCommandMarkedBeforeARevocationFailsItsCheckAndOneMarkedAfterGoesOn() throws {
        let revocation = CommandRevocation()
        let before = revocation.mark
        try revocation.check(since: before, "write", on: "LUN 1")
        revocation.revoke(reason: "fenced: lease ran out")
        #expect(revocation.isRevoked(since: before))
        #expect {
            try revocation.check(since: before, "write", on: "LUN 1")
        } throws: { error in
            guard let error = error as? BlockDeviceError else { return false }
            return error.code == .fenced && error.message == "write on LUN 1 was taken back before it could be sent again: fenced: lease ran out"
        }
        let after = revocation.mark
        #expect(!revocation.isRevoked(since: after))
        try revocation.check(since: after, "read", on: "LUN 1")
        // A second revocation names its own reason, for every command marked before it.
        revocation.revoke(reason: "fenced: taken over")
        #expect {
            try revocation.check(since: before, "write", on: "LUN 1")
        } throws: { error in
            (error as? BlockDeviceError)?.message.hasSuffix("fenced: taken over") == true
        }
    }
}
