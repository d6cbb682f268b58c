// How a child process ended, decoded from waitpid's status word.

public enum ProcessExitStatus: Hashable, Sendable, CustomStringConvertible {
    case exited(Int32)
    case signalled(Int32)
    /// Someone else reaped the child (ECHILD), so its status is unknown.
    case lost

    /// Decodes a waitpid status; Swift cannot use the WIFEXITED family of macros.
    init(waitStatus status: Int32) {
        let signal = status & 0x7f
        if signal == 0 {
            self = .exited((status >> 8) & 0xff)
        } else {
            self = .signalled(signal)
        }
    }

    public var isSuccess: Bool {
        self == .exited(0)
    }

    public var description: String {
        switch self {
        case .exited(let code): "exit code \(code)"
        case .signalled(let signal): "killed by signal \(signal)"
        case .lost: "exit status lost (reaped elsewhere)"
        }
    }
}
