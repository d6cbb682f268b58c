// The mode pages a logical unit keeps (Caching 0x08, Control 0x0A, Informational
// Exceptions 0x1C): current values, defaults, the changeable mask, and MODE SELECT.

import SCSI

/// Current mode page values, as whole pages (header included) so MODE SENSE copies
/// them out and MODE SELECT compares them byte for byte against the changeable mask.
struct ModeParameters: Sendable, Equatable {
    static let cachingPage: UInt8 = 0x08
    static let controlPage: UInt8 = 0x0A
    static let informationalExceptionsPage: UInt8 = 0x1C
    /// In the order MODE SENSE returns them for "all pages".
    static let pageCodes: [UInt8] = [cachingPage, controlPage, informationalExceptionsPage]

    /// WCE on: writes land in the host's page cache until SYNCHRONIZE CACHE or FUA.
    private static let defaults: [UInt8: [UInt8]] = [
        cachingPage: [0x08, 0x12, 0x04] + [UInt8](repeating: 0, count: 17),
        // GLTSD (no logs are saved); QUEUE ALGORITHM MODIFIER 1 (unrestricted reordering).
        controlPage: [0x0A, 0x0A, 0x02, 0x10, 0, 0, 0, 0, 0, 0, 0, 0],
        // DEXCPT: no informational exceptions are reported.
        informationalExceptionsPage: [0x1C, 0x0A, 0x08, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    ]

    /// Bits MODE SELECT may change: WCE; D_SENSE and SWP; PERF, EWASC, DEXCPT, LOGERR, MRIE,
    /// INTERVAL TIMER and REPORT COUNT.
    private static let changeable: [UInt8: [UInt8]] = [
        cachingPage: [0x08, 0x12, 0x04] + [UInt8](repeating: 0, count: 17),
        controlPage: [0x0A, 0x0A, 0x04, 0, 0x08, 0, 0, 0, 0, 0, 0, 0],
        informationalExceptionsPage: [0x1C, 0x0A, 0x99, 0x0F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
    ]

    private var current: [UInt8: [UInt8]] = ModeParameters.defaults

    /// WCE of the Caching page.
    var writeCacheEnabled: Bool { page(Self.cachingPage)[2] & 0x04 != 0 }
    /// D_SENSE of the Control page: sense data in descriptor format.
    var descriptorSense: Bool { page(Self.controlPage)[2] & 0x04 != 0 }
    /// SWP of the Control page: software write protect.
    var softwareWriteProtect: Bool { page(Self.controlPage)[4] & 0x08 != 0 }

    private func page(_ code: UInt8) -> [UInt8] {
        guard let bytes = current[code] else { preconditionFailure("mode page 0x\(code) is not kept") }
        return bytes
    }

    /// The page as MODE SENSE reports it for page control `control` (saved values are
    /// refused before this is reached).
    func page(_ code: UInt8, control: ModePageControl) -> [UInt8]? {
        switch control {
        case .current, .saved: current[code]
        case .changeable: Self.changeable[code]
        case .default: Self.defaults[code]
        }
    }

    /// Applies the pages of a MODE SELECT parameter list (`bytes` holds only the pages;
    /// `base` is their offset in the list, for field pointers). All pages are checked
    /// before any is applied. Returns whether anything changed.
    mutating func select(pages bytes: [UInt8], base: Int) throws(CommandFailure) -> Bool {
        var updated = current
        var offset = 0
        while offset < bytes.count {
            guard offset + 2 <= bytes.count else { throw .parameterListLengthError }
            let code = bytes[offset] & 0x3F
            if bytes[offset] & 0x40 != 0 {
                // No kept page has subpages.
                throw .invalidFieldInParameterList(byte: base + offset, bit: 6)
            }
            guard let ours = updated[code], let mask = Self.changeable[code] else {
                throw .invalidFieldInParameterList(byte: base + offset, bit: 5)
            }
            let length = Int(bytes[offset + 1])
            guard length == ours.count - 2 else { throw .invalidFieldInParameterList(byte: base + offset + 1) }
            guard offset + 2 + length <= bytes.count else { throw .parameterListLengthError }
            var page = ours
            for index in 2..<ours.count {
                let wanted = bytes[offset + index]
                let stray = (wanted ^ ours[index]) & ~mask[index]
                if stray != 0 {
                    throw .invalidFieldInParameterList(byte: base + offset + index, bit: UInt8(7 - stray.leadingZeroBitCount))
                }
                page[index] = (ours[index] & ~mask[index]) | (wanted & mask[index])
            }
            updated[code] = page
            offset += 2 + length
        }
        let changed = updated != current
        current = updated
        return changed
    }

    /// Back to the defaults (a reset restores saved values, which are the defaults).
    mutating func restoreDefaults() {
        current = Self.defaults
    }
}
