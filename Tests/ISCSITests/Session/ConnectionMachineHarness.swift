// Drives an InitiatorConnectionStateMachine event by event for its tests: a manual clock, a
// login to the full feature phase, submissions with ids, and readers for the actions it returns.

import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import ISCSI

/// One machine, logged in, with a clock the test moves. The event loop only makes promises;
/// there is no channel and no socket.
struct ConnectionMachineHarness {
    typealias Action = InitiatorConnectionStateMachine.Action

    static let portal = TargetPortal(host: "192.0.2.1", port: 3260)
    /// The StatSN of the final Login Response; full-feature responses continue from it.
    static let loginStatSN = Fixture.fullFeatureLoginStatSN

    let loop = EmbeddedEventLoop()
    private let promises = PromiseKeeper()
    var machine: InitiatorConnectionStateMachine
    var now = Fixture.t0
    private var nextSubmissionID: UInt64 = 1
    /// The target's next StatSN.
    var statSN = loginStatSN + 1

    /// Logs in with `Fixture.operationalAnswers` changed by `answers` (keys replaced by name),
    /// leaving a CmdSN window `window` commands wide (0 closes it).
    init(
        keepaliveInterval: TimeAmount? = nil,
        keepaliveTimeout: TimeAmount = .seconds(5),
        answers: [String: String] = [:],
        window: UInt32 = 32
    ) throws {
        machine = InitiatorConnectionStateMachine(
            configuration: .init(
                login: Fixture.configuration(),
                keepaliveInterval: keepaliveInterval,
                keepaliveTimeout: keepaliveTimeout,
                portal: Self.portal
            ),
            logger: Logger(label: "vdisk.test.connection-machine")
        )
        guard case .write(.loginRequest) = machine.channelActive(now: now) else { throw HarnessError.expected("a Login Request") }
        let security = machine.received(.loginResponse(Fixture.response(
            .securityNegotiation,
            transit: true,
            next: .operationalNegotiation,
            statSN: 10,
            text("AuthMethod=None")
        )), now: now)
        guard case .write(.loginRequest) = security else { throw HarnessError.expected("the operational Login Request") }
        var keys = pairs(of: Fixture.operationalAnswers).map { ($0.key, $0.value) }
        for index in keys.indices { if let value = answers[keys[index].0] { keys[index].1 = value } }
        let answered = text(keys.map { "\($0.0)=\($0.1)" })
        let operational = machine.received(.loginResponse(Fixture.loginToFullFeature(window: window, data: answered)), now: now)
        guard case .loggedIn = operational else { throw HarnessError.expected("a finished login, got \(operational)") }
    }

    enum HarnessError: Error {
        case expected(String)
    }

    /// A promise that fails when the harness goes away if the test left it open (NIO traps on
    /// an abandoned promise in debug builds).
    func promise<Value: Sendable>(of type: Value.Type = Value.self) -> EventLoopPromise<Value> {
        let promise = loop.makePromise(of: type)
        promises.keep(promise)
        return promise
    }

    // MARK: Events

    mutating func submit(_ work: SubmissionQueue.Work) -> (id: UInt64, action: Action) {
        let id = nextSubmissionID
        nextSubmissionID += 1
        return (id, machine.submitted(SubmissionQueue.Submission(id: id, work: work), now: now))
    }

    /// Submits a command; its promise, submission id and the machine's answer.
    mutating func execute(_ request: SCSITaskRequest) -> (promise: EventLoopPromise<SCSITaskResult>, id: UInt64, action: Action) {
        let promise = promise(of: SCSITaskResult.self)
        let (id, action) = submit(.command(request, promise))
        return (promise, id, action)
    }

    mutating func receive(_ pdu: ISCSIPDU) -> Action {
        machine.received(pdu, now: now)
    }

    /// Every action the end of a read burst produces (waiting commands the window lets out).
    mutating func readComplete() -> [Action] {
        var actions: [Action] = []
        while let action = machine.sendNextWaiting(now: now) { actions.append(action) }
        return actions
    }

    /// Moves the clock to `deadline` and fires the timer there.
    mutating func fireTimer(at deadline: NIODeadline) -> Action {
        now = deadline
        return machine.timerFired(now: now)
    }

    // MARK: Target PDUs

    /// The window fields of a target PDU: ExpCmdSN `expCmdSN`, `window` commands open.
    static func windowFields(_ expCmdSN: UInt32, _ window: UInt32 = 32) -> (exp: UInt32, max: UInt32) {
        (expCmdSN, expCmdSN &+ window &- 1)
    }

    mutating func takeStatSN() -> UInt32 {
        defer { statSN &+= 1 }
        return statSN
    }

    mutating func response(
        to tag: UInt32,
        status: UInt8 = 0,
        expCmdSN: UInt32,
        window: UInt32 = 32,
        underflow: UInt32? = nil,
        overflow: UInt32? = nil,
        serviceResponse: UInt8 = ISCSIServiceResponse.commandCompleted.rawValue,
        sense: [UInt8] = []
    ) -> ISCSIPDU {
        var data = ByteBuffer()
        if !sense.isEmpty {
            data.writeInteger(UInt16(sense.count))
            data.writeBytes(sense)
        }
        return .scsiResponse(SCSIResponse(
            residualOverflow: overflow != nil,
            residualUnderflow: underflow != nil,
            response: serviceResponse,
            status: status,
            initiatorTaskTag: tag,
            statSN: takeStatSN(),
            expCmdSN: expCmdSN,
            maxCmdSN: expCmdSN &+ window &- 1,
            residualCount: underflow ?? overflow ?? 0,
            data: data
        ))
    }

    mutating func taskManagementResponse(to tag: UInt32, _ code: TaskManagementResponseCode, expCmdSN: UInt32) -> ISCSIPDU {
        .taskManagementResponse(TaskManagementResponse(
            response: code.rawValue,
            initiatorTaskTag: tag,
            statSN: takeStatSN(),
            expCmdSN: expCmdSN,
            maxCmdSN: expCmdSN &+ 31
        ))
    }

    /// A Reject quoting a PDU header whose Initiator Task Tag is `tag`.
    mutating func reject(_ reason: UInt8, quoting tag: UInt32, expCmdSN: UInt32) -> ISCSIPDU {
        var header = ByteBuffer(repeating: 0, count: 48)
        header.setInteger(tag, at: 16)
        return .reject(Reject(reason: reason, statSN: takeStatSN(), expCmdSN: expCmdSN, maxCmdSN: expCmdSN &+ 31, data: header))
    }
}

/// Fails, at the end of a test, every promise the test left open.
final class PromiseKeeper {
    struct LeftOpen: Error {}

    private var failures: [() -> Void] = []

    func keep<Value: Sendable>(_ promise: EventLoopPromise<Value>) {
        failures.append { promise.fail(LeftOpen()) }
    }

    deinit {
        for fail in failures { fail() }
    }
}

// MARK: Reading actions

/// The PDUs an action writes, in order; empty for an action that writes nothing.
func written(_ action: InitiatorConnectionStateMachine.Action) -> [ISCSIPDU] {
    switch action {
    case .write(let pdu): [pdu]
    case .writeCommand(let command, let unsolicited): [command] + (unsolicited.map(Array.init) ?? [])
    case .writeDataOut(let burst): Array(burst)
    default: []
    }
}

func writtenCommand(_ action: InitiatorConnectionStateMachine.Action, sourceLocation: SourceLocation = #_sourceLocation) -> SCSICommand? {
    guard case .scsiCommand(let command)? = written(action).first else {
        Issue.record("expected a SCSI Command, got \(action)", sourceLocation: sourceLocation)
        return nil
    }
    return command
}

func dataOuts(_ action: InitiatorConnectionStateMachine.Action) -> [DataOut] {
    written(action).compactMap { pdu in
        if case .dataOut(let dataOut) = pdu { return dataOut }
        return nil
    }
}

/// The Data-Out PDUs' shape: (offset, length, F bit, DataSN, TTT).
func shape(_ dataOuts: [DataOut]) -> [DataOutShape] {
    dataOuts.map { DataOutShape(offset: $0.bufferOffset, length: $0.data.readableBytes, final: $0.final, dataSN: $0.dataSN, ttt: $0.targetTransferTag) }
}

struct DataOutShape: Equatable, CustomStringConvertible {
    var offset: UInt32
    var length: Int
    var final: Bool
    var dataSN: UInt32
    var ttt: UInt32

    init(offset: UInt32, length: Int, final: Bool, dataSN: UInt32, ttt: UInt32 = reservedTag) {
        self.offset = offset
        self.length = length
        self.final = final
        self.dataSN = dataSN
        self.ttt = ttt
    }

    var description: String { "(\(offset)+\(length) F=\(final) DataSN=\(dataSN) TTT=0x\(String(ttt, radix: 16)))" }
}

/// The closure of a `.close` action, or nil (recording an issue) for any other action.
func closure(
    _ action: InitiatorConnectionStateMachine.Action,
    sourceLocation: SourceLocation = #_sourceLocation
) -> InitiatorConnectionStateMachine.ConnectionClosure? {
    guard case .close(let closure) = action else {
        Issue.record("expected the connection to close, got \(action)", sourceLocation: sourceLocation)
        return nil
    }
    return closure
}

/// True when `replies` holds exactly the promises of `commands`, in any order.
func failsExactly(_ replies: [InitiatorConnectionStateMachine.PendingReply], commands: [EventLoopPromise<SCSITaskResult>]) -> Bool {
    let failed = replies.compactMap { reply -> EventLoopPromise<SCSITaskResult>? in
        if case .command(let promise) = reply { return promise }
        return nil
    }
    return failed.count == replies.count && failed.count == commands.count && commands.allSatisfy(failed.contains)
}

/// True when both lists hold the same promises, in any order.
func samePromises<Value>(_ lhs: [EventLoopPromise<Value>], _ rhs: [EventLoopPromise<Value>]) -> Bool {
    lhs.count == rhs.count && lhs.allSatisfy(rhs.contains)
}

/// A pattern of `count` bytes starting at `seed`, so slices at different offsets differ.
func pattern(_ count: Int, seed: UInt8 = 0) -> ByteBuffer {
    ByteBuffer(bytes: (0..<count).map { UInt8(truncatingIfNeeded: $0 &+ Int(seed)) })
}
