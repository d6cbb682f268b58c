// What a SANITIZE was asked to do, decoded from its CDB and parameter list.

import NIOCore

enum SanitizeOperation: Sendable {
    /// OVERWRITE: `passes` times the block-sized pattern, inverted between passes when `invert`.
    case overwrite(pattern: ByteBuffer, passes: Int, invert: Bool)
    /// BLOCK ERASE and CRYPTOGRAPHIC ERASE: every block deallocated or zeroed.
    case erase
}
