// One block operation as it travels down a filter chain: the BlockDevice calls as values.

import BlockDevice
import NIOCore
import SCSI

/// A `BlockDevice` call on its way down the chain. Filters see every operation a disk gets,
/// reservations included, so none can slip past a filter that must see it.
public enum FilterRequest: Sendable {
    case read(lba: UInt64, blockCount: Int)
    case write(ByteBuffer, lba: UInt64, fua: Bool)
    case flush
    case unmap([BlockRange])
    case writeSame(ByteBuffer, lba: UInt64, blockCount: Int, unmap: Bool)
    case compareAndWrite(lba: UInt64, expected: ByteBuffer, replacement: ByteBuffer)
    case persistentReserveOut(PersistentReserveOutRequest)
    case readReservationKeys
    case readReservation

    public var operation: FilterOperation {
        switch self {
        case .read: .read
        case .write: .write
        case .flush: .flush
        case .unmap: .unmap
        case .writeSame: .writeSame
        case .compareAndWrite: .compareAndWrite
        case .persistentReserveOut, .readReservationKeys, .readReservation: .reservation
        }
    }

    /// The first block and the number of blocks the operation touches (nil for flush and
    /// reservations; for UNMAP the first range and the sum of all ranges).
    public func extent(blockSize: Int) -> (lba: UInt64, blockCount: Int)? {
        switch self {
        case .read(let lba, let count): (lba, count)
        case .write(let data, let lba, _): (lba, data.readableBytes / blockSize)
        case .writeSame(_, let lba, let count, _): (lba, count)
        case .compareAndWrite(let lba, let expected, _): (lba, expected.readableBytes / blockSize)
        case .unmap(let ranges): ranges.first.map { ($0.lba, ranges.reduce(0) { $0 + Int($1.blockCount) }) }
        case .flush, .persistentReserveOut, .readReservationKeys, .readReservation: nil
        }
    }

    /// Bytes of data the operation moves between client and disk: what a bytes/s limit and a
    /// length histogram count. Writes and compare-and-write count their payload; reads the
    /// blocks asked for (`blockSize` turns blocks into bytes); the rest move none.
    public func transferBytes(blockSize: Int) -> Int {
        switch self {
        case .read(_, let count): count * blockSize
        case .write(let data, _, _): data.readableBytes
        case .compareAndWrite(_, let expected, let replacement): expected.readableBytes + replacement.readableBytes
        case .writeSame(let pattern, _, _, _): pattern.readableBytes
        case .flush, .unmap, .persistentReserveOut, .readReservationKeys, .readReservation: 0
        }
    }
}

/// A request's operation, for what a filter understands and for statistics.
public enum FilterOperation: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case read, write, flush, unmap, writeSame, compareAndWrite, reservation

    public var description: String { rawValue }
}

/// What came back up: the value the `BlockDevice` call returns.
public enum FilterReply: Sendable {
    case done
    case data(ByteBuffer)
    case keys(PersistentReservationKeys)
    case reservation(PersistentReservationStatus)
}
