// Collects a read's Data-In PDUs into one buffer, checking order and bounds (RFC 7143 §11.7).

import NIOCore

/// The data-in side of one command.
///
/// We always offer DataPDUInOrder=Yes and DataSequenceInOrder=Yes, and both
/// negotiate with OR, so data arrives in order: each Data-In must start where
/// the previous one ended. One Data-In carrying everything keeps the decoder's
/// slice and copies nothing; otherwise each piece is copied, once, into one
/// buffer of the expected length as it arrives. A long Data-In is copied by the
/// decoder itself, straight from the socket's buffers into this one (`lend`).
public struct ReadAssembly: Sendable {
    public let expectedLength: Int
    private var buffer: ByteBuffer?
    /// The buffer is with the decoder, which appends the next Data-In's payload to it.
    private var lent = false
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
        if lent {
            // The decoder wrote the payload behind what we had: the whole buffer is ours again.
            lent = false
            var whole = dataIn.data
            whole.moveReaderIndex(to: 0)
            buffer = whole
        } else if buffer == nil, count == expectedLength {
            // The whole read in one PDU: keep the decoder's slice.
            buffer = dataIn.data
        } else {
            // Holding a slice of the decoder's cumulation buffer while more bytes are appended
            // to it would make every append copy that buffer; take our own copy at once instead.
            if buffer == nil { buffer = allocator.buffer(capacity: expectedLength) }
            buffer!.writeImmutableBuffer(dataIn.data)
        }
        receivedBytes += count
    }

    /// Hands the buffer the read is assembled in to the decoder, for a Data-In of `length`
    /// bytes at `offset` whose header has just been read: the decoder appends the payload
    /// as it arrives and returns the buffer as that Data-In's data, read from `offset`, and
    /// `append` takes it back. nil when such a segment would not continue the read (`append`
    /// then reports why) or the buffer is already lent.
    public mutating func lend(offset: Int, length: Int, allocator: ByteBufferAllocator) -> ByteBuffer? {
        guard !lent, offset == receivedBytes, length > 0, length <= expectedLength - offset else { return nil }
        let lending = buffer ?? allocator.buffer(capacity: expectedLength)
        buffer = nil
        lent = true
        return lending
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
