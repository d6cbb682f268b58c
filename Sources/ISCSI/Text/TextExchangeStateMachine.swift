// One Text Request/Response exchange (RFC 7143 §6.1, §11.10, §11.11), e.g.
// SendTargets: our text in C-bit pieces, then the target's answer across as many
// Text Responses as it needs, with bounds so a target cannot keep us looping.

import NIOCore

/// Drives a single text exchange without I/O.
///
/// While the target answers with F=0 we fetch the rest with an empty Text Request
/// that echoes its Target Transfer Tag; F=1 ends the exchange. The exchange fails
/// when the answer outgrows `limits.maximumTotalLength` or takes more than
/// `maximumRequests` requests.
public struct TextExchangeStateMachine: Sendable {
    public struct Configuration: Sendable {
        public var initiatorTaskTag: UInt32
        /// CmdSN of the first request (the session's next CmdSN).
        public var cmdSN: UInt32
        public var expStatSN: UInt32
        /// Text Requests go out immediate by default, like libiscsi's and open-iscsi's.
        public var immediate: Bool
        public var lun: UInt64
        /// The target's MaxRecvDataSegmentLength: our pieces are no longer.
        public var targetMaxRecvDataSegmentLength: Int
        public var limits: TextKeyLimits
        public var maximumRequests: Int
        /// Names the target in messages.
        public var target: String

        public init(
            initiatorTaskTag: UInt32,
            cmdSN: UInt32,
            expStatSN: UInt32,
            immediate: Bool = true,
            lun: UInt64 = 0,
            targetMaxRecvDataSegmentLength: Int = 8192,
            limits: TextKeyLimits = .exchange,
            maximumRequests: Int = 256,
            target: String
        ) {
            self.initiatorTaskTag = initiatorTaskTag
            self.cmdSN = cmdSN
            self.expStatSN = expStatSN
            self.immediate = immediate
            self.lun = lun
            self.targetMaxRecvDataSegmentLength = targetMaxRecvDataSegmentLength
            self.limits = limits
            self.maximumRequests = maximumRequests
            self.target = target
        }
    }

    public enum Action: Sendable, Equatable {
        case sendTextRequest(TextRequest)
        case completed(TextExchangeResult)
        /// Close the connection (scope `.connection`) or end the session per the error.
        case failed(ISCSIError)
        /// Nothing to do: the exchange already ended.
        case wait

        public static func == (lhs: Action, rhs: Action) -> Bool {
            switch (lhs, rhs) {
            case (.sendTextRequest(let a), .sendTextRequest(let b)): a == b
            case (.completed(let a), .completed(let b)): a == b
            // ISCSIError is not Equatable; code, scope and message together identify it.
            case (.failed(let a), .failed(let b)): a.code == b.code && a.scope == b.scope && a.message == b.message
            case (.wait, .wait): true
            case (.sendTextRequest, _), (.completed, _), (.failed, _), (.wait, _): false
            }
        }
    }

    private enum State: Sendable {
        case idle([TextKeyValue])
        /// Pieces of our text still to send after the one in flight.
        case sending(unsent: [ByteBuffer])
        /// Our text is out; collecting the answer.
        case receiving
        case done
    }

    public let configuration: Configuration
    private var state: State
    private var accumulator: TextSegmentAccumulator
    private var cmdSN: UInt32
    private var expStatSN: UInt32
    private var requestsSent = 0

    public init(configuration: Configuration, text: [TextKeyValue]) {
        self.configuration = configuration
        self.state = .idle(text)
        self.accumulator = TextSegmentAccumulator(limits: configuration.limits)
        self.cmdSN = configuration.cmdSN
        self.expStatSN = configuration.expStatSN
    }

    /// Sends the first (or only) piece of our text.
    public mutating func start() -> Action {
        guard case .idle(let text) = state else { preconditionFailure("start() called twice on one text exchange") }
        var pieces = TextSegmentSplitter.split(
            ByteBuffer(textKeyValues: text),
            maximumSegmentLength: configuration.targetMaxRecvDataSegmentLength
        )
        let first = pieces.removeFirst()
        state = pieces.isEmpty ? .receiving : .sending(unsent: pieces)
        return request(data: first, continue: !pieces.isEmpty, transferTag: reservedTag)
    }

    public mutating func receivedTextResponse(_ response: TextResponse) -> Action {
        switch state {
        case .idle:
            preconditionFailure("Text Response fed to an exchange that was not started")
        case .done:
            return .wait
        case .sending(var unsent):
            if let error = check(response) { return fail(error) }
            // The target acknowledges each piece of our text with an empty F=0 answer.
            guard !response.final, !response.continue, response.data.readableBytes == 0 else {
                return fail(violation("answered before we had sent all of our continued text"))
            }
            let piece = unsent.removeFirst()
            state = unsent.isEmpty ? .receiving : .sending(unsent: unsent)
            return request(data: piece, continue: !unsent.isEmpty, transferTag: response.targetTransferTag)
        case .receiving:
            if let error = check(response) { return fail(error) }
            let pairs: [TextKeyValue]?
            do {
                // F=0 without C still means more text follows, so keep collecting until F=1.
                pairs = try accumulator.append(response.data, continues: !response.final)
            } catch {
                return fail(error)
            }
            if let pairs {
                state = .done
                return .completed(
                    TextExchangeResult(
                        pairs: pairs,
                        expStatSN: expStatSN,
                        expCmdSN: response.expCmdSN,
                        maxCmdSN: response.maxCmdSN,
                        nextCmdSN: Self.serialMax(cmdSN, response.expCmdSN)
                    )
                )
            }
            // A reserved tag would make the empty request a brand-new exchange, and a
            // target that answers it the same way would loop us forever.
            guard response.targetTransferTag != reservedTag else {
                return fail(violation("has more text (F=0) but gave no Target Transfer Tag to fetch it with"))
            }
            return request(data: ByteBuffer(), continue: false, transferTag: response.targetTransferTag)
        }
    }

    /// Any PDU other than a Text Response for this exchange (a Reject, say).
    public mutating func receivedPDU(opcode: ISCSIOpcode) -> Action {
        switch state {
        case .idle:
            preconditionFailure("PDU fed to a text exchange that was not started")
        case .done:
            return .wait
        case .sending, .receiving:
            return fail(
                ISCSIError(
                    opcode == .reject ? .rejected : .unexpectedPDU,
                    scope: .connection,
                    "target \(configuration.target) sent a \(opcode) PDU instead of a Text Response"
                )
            )
        }
    }

    // MARK: - Helpers

    private mutating func check(_ response: TextResponse) -> ISCSIError? {
        guard response.initiatorTaskTag == configuration.initiatorTaskTag else {
            return violation(
                "answered Initiator Task Tag 0x\(String(response.initiatorTaskTag, radix: 16)) "
                    + "for our 0x\(String(configuration.initiatorTaskTag, radix: 16))"
            )
        }
        guard !(response.final && response.continue) else { return violation("set both the F and the C bit") }
        expStatSN = response.statSN &+ 1
        return nil
    }

    private mutating func request(data: ByteBuffer, continue: Bool, transferTag: UInt32) -> Action {
        requestsSent += 1
        guard requestsSent <= configuration.maximumRequests else {
            return fail(violation("kept the text exchange going for more than \(configuration.maximumRequests) requests"))
        }
        let request = TextRequest(
            immediate: configuration.immediate,
            final: !`continue`,
            continue: `continue`,
            lun: configuration.lun,
            initiatorTaskTag: configuration.initiatorTaskTag,
            targetTransferTag: transferTag,
            cmdSN: cmdSN,
            expStatSN: expStatSN,
            data: data
        )
        // A non-immediate request uses up its CmdSN (RFC 7143 §4.2.2.1).
        if !configuration.immediate { cmdSN &+= 1 }
        return .sendTextRequest(request)
    }

    private mutating func fail(_ error: ISCSIError) -> Action {
        state = .done
        return .failed(error)
    }

    private func violation(_ what: String) -> ISCSIError {
        ISCSIError(.protocolViolation, scope: .connection, "target \(configuration.target) \(what)")
    }

    /// The later of two sequence numbers in RFC 1982 serial arithmetic.
    static func serialMax(_ a: UInt32, _ b: UInt32) -> UInt32 {
        let difference = b &- a
        return difference != 0 && difference < 0x8000_0000 ? b : a
    }
}
