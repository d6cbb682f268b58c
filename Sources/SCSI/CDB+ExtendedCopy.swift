// EXTENDED COPY(LID1) (SPC-5 §6.4) and the parts of its parameter list a block-to-block
// copy between units named by NAA designators needs (§6.4.5, §6.4.6).

extension CDB {
    /// EXTENDED COPY(LID1) sending a parameter list of `length` bytes.
    public static func extendedCopy(parameterListLength length: Int) -> [UInt8] {
        var cdb = blank(.thirdPartyCopyOut, length: 16)
        cdb.storeBigEndian(UInt32(length), at: 10)
        return cdb
    }

    /// An identification CSCD descriptor (0xE4) naming a direct-access unit by its NAA
    /// designator, with the unit's logical block length.
    public static func copyTargetDescriptor(naa: [UInt8], blockLength: Int) -> [UInt8] {
        var descriptor = [UInt8](repeating: 0, count: 32)
        descriptor[0] = 0xE4
        descriptor[4] = 0x01  // binary code set
        descriptor[5] = 0x03  // NAA designator, associated with the logical unit
        descriptor[7] = UInt8(naa.count)
        descriptor.replaceSubrange(8..<(8 + naa.count), with: naa)
        // DISK BLOCK LENGTH is bytes 29-31; byte 28 (PAD, CAT) stays 0 for any real block length.
        descriptor.storeBigEndian(UInt32(blockLength & 0xFF_FFFF), at: 28)
        return descriptor
    }

    /// A block-to-block segment descriptor (0x02): `blocks` from `sourceLBA` of CSCD
    /// `source` to `destinationLBA` of CSCD `destination`.
    public static func copyBlockSegment(source: UInt16, destination: UInt16, blocks: UInt16, sourceLBA: UInt64, destinationLBA: UInt64) -> [UInt8] {
        var descriptor = [UInt8](repeating: 0, count: 28)
        descriptor[0] = 0x02
        descriptor[3] = 0x18
        descriptor.storeBigEndian(source, at: 4)
        descriptor.storeBigEndian(destination, at: 6)
        descriptor.storeBigEndian(blocks, at: 10)
        descriptor.storeBigEndian(sourceLBA, at: 12)
        descriptor.storeBigEndian(destinationLBA, at: 20)
        return descriptor
    }

    /// The parameter list: the header (LIST IDENTIFIER, LIST ID USAGE in bits 4-3 of byte 1),
    /// then the CSCD descriptors, then the segment descriptors.
    public static func copyParameterList(listID: UInt8, usage: UInt8 = 0, targets: [[UInt8]], segments: [[UInt8]]) -> [UInt8] {
        let targetBytes = targets.flatMap { $0 }
        let segmentBytes = segments.flatMap { $0 }
        var header = [UInt8](repeating: 0, count: 16)
        header[0] = listID
        header[1] = usage << 3
        header.storeBigEndian(UInt16(targetBytes.count), at: 2)
        header.storeBigEndian(UInt32(segmentBytes.count), at: 8)
        return header + targetBytes + segmentBytes
    }
}
