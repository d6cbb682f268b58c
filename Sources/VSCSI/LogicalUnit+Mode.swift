// MODE SENSE(6/10) and MODE SELECT(6/10) (SPC-5 §6.11-6.14) over the pages
// `ModeParameters` keeps; MODE SELECT tells the other nexuses with a unit attention.

import NIOCore
import SCSI

extension LogicalUnit {
    func modeSense(_ context: CommandContext) throws -> CommandResult {
        let cdb = context.cdb
        let isTen = context.descriptor.kind == .modeSense10
        let allocationLength = isTen ? Int(cdb.uint16(7)) : Int(cdb[4])
        let disableBlockDescriptors = cdb[1] & 0x08 != 0
        let longLBA = isTen && cdb[1] & 0x10 != 0
        guard let control = ModePageControl(rawValue: cdb[2] >> 6) else { throw CommandFailure.invalidFieldInCDB(byte: 2, bit: 7) }
        let pageCode = cdb[2] & 0x3F
        let subpage = cdb[3]
        if control == .saved {
            throw CommandFailure.check(.illegalRequest, .savingParametersNotSupported)
        }
        // No kept page has subpages: only 0x00, or 0xFF ("and all subpages").
        if subpage != 0x00 && subpage != 0xFF { throw CommandFailure.invalidFieldInCDB(byte: 3) }
        let mode = state.withLockedValue { $0.mode }
        let codes: [UInt8]
        if pageCode == 0x3F {
            codes = ModeParameters.pageCodes
        } else if ModeParameters.pageCodes.contains(pageCode) {
            codes = [pageCode]
        } else {
            throw CommandFailure.invalidFieldInCDB(byte: 2, bit: 5)
        }
        let pages = codes.flatMap { mode.page($0, control: control) ?? [] }

        let geometry = self.geometry
        var blockDescriptor: [UInt8] = []
        if !disableBlockDescriptors {
            if longLBA {
                blockDescriptor = [UInt8](repeating: 0, count: 16)
                if control != .changeable {
                    blockDescriptor.put(geometry.blockCount, at: 0)
                    blockDescriptor.put(UInt32(geometry.blockSize), at: 12)
                }
            } else {
                blockDescriptor = [UInt8](repeating: 0, count: 8)
                if control != .changeable {
                    blockDescriptor.put(UInt32(clamping: geometry.blockCount), at: 0)
                    blockDescriptor.put(UInt32(geometry.blockSize), at: 5, width: 3)
                }
            }
        }
        // DEVICE-SPECIFIC PARAMETER: WP, and DPOFUA (DPO and FUA are honoured).
        let deviceSpecific: UInt8 = (context.writeProtected ? 0x80 : 0) | 0x10
        var header: [UInt8]
        if isTen {
            header = [UInt8](repeating: 0, count: 8)
            header.put(UInt16(clamping: 6 + blockDescriptor.count + pages.count), at: 0)
            header[3] = deviceSpecific
            header[4] = longLBA ? 0x01 : 0
            header.put(UInt16(blockDescriptor.count), at: 6)
        } else {
            header = [UInt8(clamping: 3 + blockDescriptor.count + pages.count), 0, deviceSpecific, UInt8(blockDescriptor.count)]
        }
        return .data(header + blockDescriptor + pages, allocationLength: allocationLength)
    }

    func modeSelect(_ context: CommandContext) throws -> CommandResult {
        let cdb = context.cdb
        let isTen = context.descriptor.kind == .modeSelect10
        let listLength = isTen ? Int(cdb.uint16(7)) : Int(cdb[4])
        if cdb[1] & 0x01 != 0 { throw CommandFailure.invalidFieldInCDB(byte: 1, bit: 0) }  // SP: nothing is saved
        guard listLength > 0 else { return .good }
        if cdb[1] & 0x10 == 0 { throw CommandFailure.invalidFieldInCDB(byte: 1, bit: 4) }  // PF: only the standard page format
        let list = Array(context.dataOut.readableBytesView.prefix(listLength))
        let headerLength = isTen ? 8 : 4
        guard list.count == listLength, list.count >= headerLength else { throw CommandFailure.parameterListLengthError }
        let mediumTypeOffset = isTen ? 2 : 1
        if list[mediumTypeOffset] != 0 { throw CommandFailure.invalidFieldInParameterList(byte: mediumTypeOffset) }
        let descriptorLength = isTen ? Int(list.bigEndian(at: 6, width: 2)) : Int(list[3])
        let longLBA = isTen && list[4] & 0x01 != 0
        let descriptorSize = longLBA ? 16 : 8
        guard headerLength + descriptorLength <= list.count else { throw CommandFailure.parameterListLengthError }
        if descriptorLength != 0 && descriptorLength != descriptorSize {
            throw CommandFailure.invalidFieldInParameterList(byte: isTen ? 6 : 3)
        }
        if descriptorLength > 0 {
            // The block length cannot change, nor the capacity; 0 blocks means "unchanged".
            let geometry = self.geometry
            let base = headerLength
            let blocks = longLBA ? list.bigEndian(at: base, width: 8) : list.bigEndian(at: base, width: 4)
            let lengthOffset = longLBA ? base + 12 : base + 5
            let blockLength = list.bigEndian(at: lengthOffset, width: longLBA ? 4 : 3)
            if blocks != 0 && blocks != geometry.blockCount && !(blocks == 0xFFFF_FFFF && !longLBA) {
                throw CommandFailure.invalidFieldInParameterList(byte: base)
            }
            if blockLength != UInt64(geometry.blockSize) {
                throw CommandFailure.invalidFieldInParameterList(byte: lengthOffset)
            }
        }
        let pagesStart = headerLength + descriptorLength
        let pages = Array(list[pagesStart...])
        let nexus = context.nexus
        try withState { state -> Result<Void, CommandFailure> in
            var mode = state.mode
            do throws(CommandFailure) {
                if try mode.select(pages: pages, base: pagesStart) {
                    state.mode = mode
                    state.queueUnitAttentionForAll(.modeParametersChanged, except: nexus)
                }
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        return CommandResult(dataOutLength: listLength)
    }
}
