// Collects a read's Data-In PDUs into one buffer, checking order and bounds (RFC 7143 §11.7).

import NIOCore

/// The data-in side of one command.
///
/// We always offer DataPDUInOrder=Yes and DataSequenceInOrder=Yes, and both
/// negotiate with OR, so data arrives in order: each Data-In must start where
/// the previous one ended. The common case, one Data-In carrying everything,
/// keeps the decoder's slice and copies nothing; otherwise the pieces are
/// copied, once, into one buffer of the expected length.
public struct ReadAssembly: Sendable {
    public let expectedLength: Int
    private var buffer: ByteBuffer?
    /// False while `buffer` is the decoder's slice, which must not be written to.
    private var ownsBuffer = false
    private var nextDataSN: UInt32 = 0
    /// Bytes received so far (they are contiguous from offset 0).
    public private(set) var receivedBytes: Int = 0

    public init(expectedLength: Int) {
        self.expectedLength = expectedLength
    }

    public mutating func append(_ dataIn: DataIn, allocator: ByteBufferAllocator) throws(ISCSIError) {
        guard dataIn.dataSN == nextDataSN else {
            throw violation(dataIn, "has DataSN \(dataIn.dataSN), expected \(nextDataSN)")
        }
        nextDataSN &+= 1
        let offset = Int(dataIn.bufferOffset)
        let count = dataIn.data.readableBytes
        guard offset == receivedBytes else {
            throw violation(dataIn, "starts at buffer offset \(offset), expected \(receivedBytes)")
        }
        guard count <= expectedLength - offset else {
            throw violation(dataIn, "carries bytes \(offset)..<\(offset + count) but the command expects only \(expectedLength)")
        }
        guard count > 0 else { return }
        if buffer == nil {
            buffer = dataIn.data
        } else {
            if !ownsBuffer {
                var owned = allocator.buffer(capacity: expectedLength)
                owned.writeImmutableBuffer(buffer!)
                buffer = owned
                ownsBuffer = true
            }
            buffer!.writeImmutableBuffer(dataIn.data)
        }
        receivedBytes += count
    }

    /// The data received, at most `length` bytes (the expected length less any underflow).
    public func finish(length: Int) -> ByteBuffer {
        guard var buffer else { return ByteBuffer() }
        if buffer.readableBytes > length {
            buffer.moveWriterIndex(to: buffer.readerIndex + max(0, length))
        }
        return buffer
    }

    private func violation(_ dataIn: DataIn, _ what: String) -> ISCSIError {
        ISCSIError(
            .protocolViolation,
            scope: .connection,
            "Data-In for task 0x\(String(dataIn.initiatorTaskTag, radix: 16)) \(what)"
        )
    }
}
