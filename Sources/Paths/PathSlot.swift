// One path's live state inside its multipath device.

import BlockDevice
import SCSI

/// What the multipath device knows of one path; guarded by the device's lock.
struct PathSlot: Sendable {
    let configuration: PathConfiguration
    /// The open LUN on this path, nil while dead.
    var device: (any SCSIBlockCommands)?
    /// Moves on every time the path is opened, so a failure seen on an older session does not
    /// kill a newer one.
    var generation = 0
    var state: PathState = .dead
    var reason = "not opened yet"
    /// Taken out of service by the operator.
    var disabled = false
    /// A login of this path is under way.
    var opening = false
    /// The ALUA state of the path's target port group; nil when the unit has no ALUA.
    var accessState: AsymmetricAccessState?
    /// The path's target port group, from its VPD 0x83 page.
    var portGroup: UInt16?
    var healthySince: Duration = .zero
    /// The last time a command or probe completed on this path.
    var lastActivity: Duration = .zero
    /// Whether the path ever reached the LUN (a path that changes identity after that is device loss).
    var wasGood = false
    /// The target said LOGICAL UNIT NOT SUPPORTED on this path: a vote for device loss.
    var unitNotSupported = false
    var damping: PathDamping
    var counters = PathCounters()

    init(configuration: PathConfiguration, damping: PathDamping.Settings) {
        self.configuration = configuration
        self.damping = PathDamping(settings: damping)
    }

    var name: String { configuration.name }

    /// Whether the policy may send I/O here now.
    var takesIO: Bool { state == .active && device != nil }

    /// 0 for active/optimized or no ALUA, 1 for active/non-optimized.
    var rank: Int { accessState == .activeNonOptimized ? 1 : 0 }

    /// The state an open path is in, given its group's ALUA state.
    static func openState(for accessState: AsymmetricAccessState?) -> PathState {
        guard let accessState else { return .active }
        return accessState == .activeOptimized || accessState == .activeNonOptimized ? .active : .standby
    }
}
