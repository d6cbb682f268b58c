// What a successful login hands to the session (RFC 7143 §11.13): the negotiated
// parameters and the sequence numbers that full feature phase continues from.

/// The outcome of a successful login.
public struct LoginResult: Sendable, Equatable {
    public var parameters: NegotiatedParameters
    /// The session's TSIH, assigned by the target for a new session.
    public var tsih: UInt16
    /// The StatSN the next response on this connection will carry.
    public var expStatSN: UInt32
    /// The CmdSN of the first command: login PDUs are immediate and did not use any.
    public var cmdSN: UInt32
    public var expCmdSN: UInt32
    public var maxCmdSN: UInt32

    public init(
        parameters: NegotiatedParameters,
        tsih: UInt16,
        expStatSN: UInt32,
        cmdSN: UInt32,
        expCmdSN: UInt32,
        maxCmdSN: UInt32
    ) {
        self.parameters = parameters
        self.tsih = tsih
        self.expStatSN = expStatSN
        self.cmdSN = cmdSN
        self.expCmdSN = expCmdSN
        self.maxCmdSN = maxCmdSN
    }

    public var targetAlias: String? { parameters.targetAlias }
    public var targetPortalGroupTag: UInt16? { parameters.targetPortalGroupTag }
}
