// The Target Transfer Tags one target connection hands out (RFC 7143 §11.7.4, §11.8.4):
// for R2Ts, NOP-In pings and long Text Responses.

import ISCSI

/// The next free Target Transfer Tag; never the reserved 0xFFFFFFFF, wrapping back to 1.
struct TargetTransferTags {
    private var next: UInt32 = 1

    mutating func take() -> UInt32 {
        defer {
            next &+= 1
            if next == reservedTag { next = 1 }
        }
        return next
    }
}
