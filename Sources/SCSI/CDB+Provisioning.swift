// WRITE SAME(16) (SBC-4 §5.50) and UNMAP with its parameter list (SBC-4 §5.37):
// the commands the datastore zeroes and deallocates with.

extension CDB {
    /// The most block descriptors one UNMAP parameter list can carry: its
    /// 16-bit UNMAP DATA LENGTH counts 6 header bytes plus 16 per descriptor.
    public static let maximumUnmapDescriptors = (Int(UInt16.max) - 6) / 16

    /// WRITE SAME(16). `unmap` lets the device deallocate instead of writing
    /// (when the data is zeros); `anchor` keeps the blocks anchored; with
    /// `noDataOutBuffer` (NDOB) no block is sent and zeros are written.
    public static func writeSame16(
        lba: UInt64,
        blockCount: UInt32,
        unmap: Bool = false,
        anchor: Bool = false,
        noDataOutBuffer: Bool = false
    ) -> [UInt8] {
        var cdb = blank(.writeSame16, length: 16)
        cdb[1] = (anchor ? 0x10 : 0) | (unmap ? 0x08 : 0) | (noDataOutBuffer ? 0x01 : 0)
        cdb.storeBigEndian(lba, at: 2)
        cdb.storeBigEndian(blockCount, at: 10)
        return cdb
    }

    /// UNMAP; `parameterListLength` is the length of what `unmapParameterList` built.
    public static func unmap(parameterListLength: UInt16, anchor: Bool = false) -> [UInt8] {
        var cdb = blank(.unmap, length: 10)
        cdb[1] = anchor ? 0x01 : 0
        cdb.storeBigEndian(parameterListLength, at: 7)
        return cdb
    }

    /// UNMAP and its parameter list for `descriptors` together.
    /// - Precondition: at most `maximumUnmapDescriptors` descriptors; callers split
    ///   long lists by the device's MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT anyway.
    public static func unmap(_ descriptors: [UnmapBlockDescriptor], anchor: Bool = false) -> (cdb: [UInt8], parameterList: [UInt8]) {
        let parameterList = unmapParameterList(descriptors)
        return (unmap(parameterListLength: UInt16(parameterList.count), anchor: anchor), parameterList)
    }

    /// The UNMAP parameter list: an 8-byte header, then 16 bytes per descriptor.
    /// - Precondition: at most `maximumUnmapDescriptors` descriptors.
    public static func unmapParameterList(_ descriptors: [UnmapBlockDescriptor]) -> [UInt8] {
        precondition(
            descriptors.count <= maximumUnmapDescriptors,
            "UNMAP takes at most \(maximumUnmapDescriptors) block descriptors, got \(descriptors.count)"
        )
        var list = [UInt8](repeating: 0, count: 8 + 16 * descriptors.count)
        list.storeBigEndian(UInt16(list.count - 2), at: 0)
        list.storeBigEndian(UInt16(16 * descriptors.count), at: 2)
        for (index, descriptor) in descriptors.enumerated() {
            let offset = 8 + 16 * index
            list.storeBigEndian(descriptor.lba, at: offset)
            list.storeBigEndian(descriptor.blockCount, at: offset + 8)
        }
        return list
    }
}
