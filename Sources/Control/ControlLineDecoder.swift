// Splits the control socket's byte stream into request lines, refusing lines over 1 MiB.

import NIOCore

/// Newline-framed requests. A line longer than the limit is not buffered: the decoder reports it
/// once as `.tooLarge`, then discards bytes up to its newline, so one huge request costs the
/// daemon at most `maximumLineLength` bytes of memory and the connection stays usable.
public struct ControlLineDecoder: NIOSingleStepByteToMessageDecoder {
    public enum Frame: Sendable, Hashable {
        case line([UInt8])
        case tooLarge
    }

    public typealias InboundOut = Frame

    /// 1 MiB: far above any real request, small enough that a client cannot make the daemon hoard memory.
    public static let maximumLineLength = 1 << 20

    private enum ReadState {
        case reading
        /// Inside an oversized line, already answered; drop bytes until its newline.
        case discarding
    }

    private var state = ReadState.reading
    private let maximumLineLength: Int

    public init(maximumLineLength: Int = ControlLineDecoder.maximumLineLength) {
        self.maximumLineLength = maximumLineLength
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> Frame? {
        switch state {
        case .reading:
            if let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                let length = newline - buffer.readerIndex
                guard length <= maximumLineLength else {
                    buffer.moveReaderIndex(to: newline + 1)
                    return .tooLarge
                }
                var bytes = buffer.readBytes(length: length) ?? []
                buffer.moveReaderIndex(forwardBy: 1)
                if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
                return .line(bytes)
            }
            guard buffer.readableBytes > maximumLineLength else { return nil }
            buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
            state = .discarding
            return .tooLarge
        case .discarding:
            if let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                buffer.moveReaderIndex(to: newline + 1)
                state = .reading
                return try decode(buffer: &buffer)
            }
            buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
            return nil
        }
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> Frame? {
        // A last request without its newline is still answered; a discarded tail is dropped.
        if let frame = try decode(buffer: &buffer) { return frame }
        switch state {
        case .reading:
            guard buffer.readableBytes > 0 else { return nil }
            return .line(buffer.readBytes(length: buffer.readableBytes) ?? [])
        case .discarding:
            buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
            return nil
        }
    }
}
