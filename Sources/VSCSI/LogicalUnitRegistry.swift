// Logical units that can find each other by NAA designator, so EXTENDED COPY can
// copy between two units of one export (the VAAI clone offload across disks).

import NIOConcurrencyHelpers

/// A shared directory of live logical units, keyed by their NAA designator.
public final class LogicalUnitRegistry: Sendable {
    private struct Entry: Sendable {
        weak var unit: LogicalUnit?
    }

    private let units = NIOLockedValueBox<[[UInt8]: Entry]>([:])

    public init() {}

    /// Makes `unit` reachable; a logical unit created with a registry registers itself.
    public func register(_ unit: LogicalUnit) {
        units.withLockedValue { $0[unit.identity.naaIdentifier] = Entry(unit: unit) }
    }

    public func unregister(_ unit: LogicalUnit) {
        units.withLockedValue { units in
            let key = unit.identity.naaIdentifier
            if units[key].map({ $0.unit == nil || $0.unit === unit }) == true {
                units[key] = nil
            }
        }
    }

    /// The live unit whose NAA designator is `identifier`.
    public func unit(withNAA identifier: [UInt8]) -> LogicalUnit? {
        units.withLockedValue { $0[identifier]?.unit }
    }
}
