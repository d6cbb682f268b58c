// GET LBA STATUS for image files: a block wholly inside a hole is deallocated.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension FileBlockDevice: LBAStatusReporting {
    /// lseek whences of Linux that the C module map leaves out without _GNU_SOURCE.
    private static let seekData: Int32 = 3
    private static let seekHole: Int32 = 4

    /// SEEK_DATA and SEEK_HOLE from `lba`: a block with any data in it is mapped, a block
    /// wholly inside a hole is deallocated. Where the file system cannot tell, the range is
    /// reported mapped, which is never wrong, only imprecise.
    public func provisioningStatus(at lba: UInt64, limit: UInt64) async throws -> (mapped: Bool, blockCount: UInt64) {
        let blockSize = UInt64(geometry.blockSize)
        let limit = max(1, limit)
        let start = off_t(lba * blockSize)
        let data = lseek(fd, start, Self.seekData)
        if data < 0 {
            // ENXIO: no data from here to the end of the file, so all of it is a hole.
            return errno == ENXIO ? (false, limit) : (true, limit)
        }
        let holeBlocks = (UInt64(data) - UInt64(start)) / blockSize
        if holeBlocks > 0 { return (false, min(limit, holeBlocks)) }
        let hole = lseek(fd, start, Self.seekHole)
        guard hole > start else { return (true, 1) }
        // A block the hole begins inside still holds data: round up.
        let mappedBlocks = (UInt64(hole) - UInt64(start) + blockSize - 1) / blockSize
        return (true, min(limit, max(1, mappedBlocks)))
    }
}
