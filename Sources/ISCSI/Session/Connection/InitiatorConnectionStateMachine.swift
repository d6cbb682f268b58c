// One initiator connection's protocol logic without I/O: login, then the full feature phase (RFC 7143).

import Logging
import NIOCore

/// Decides everything one initiator connection does; `ISCSIConnectionHandler` performs it.
///
/// Each event (a PDU received, a submission arrived, the timer fired, the channel
/// went away) is a mutating method that returns the one `Action` to perform. Time
/// comes in as `now` with the events that need it; the machine keeps one deadline,
/// the earliest thing it waits for, and `timerToArm()` says when the handler's single
/// timer must move. A timer that fires early is harmless: the machine only acts on
/// what is due. Logging a few diagnostics is its only side effect.
struct InitiatorConnectionStateMachine {
    struct Configuration {
        var login: LoginConfiguration
        /// nil turns the keepalive off.
        var keepaliveInterval: TimeAmount?
        var keepaliveTimeout: TimeAmount
        var portal: TargetPortal
    }

    private enum State {
        case waitingForActive
        case loggingIn(LoginStateMachine)
        case fullFeature
        case closed(ISCSIError)
    }

    private let configuration: Configuration
    private var state: State = .waitingForActive
    /// Window, tasks, waiting submissions and keepalive; live from login on, but submissions
    /// may already wait in it during login.
    private var phase: FullFeaturePhase
    /// The deadline the handler's timer is armed for; nil when none is.
    private var armedDeadline: NIODeadline?

    init(configuration: Configuration, allocator: ByteBufferAllocator = ByteBufferAllocator(), logger: Logger) {
        self.configuration = configuration
        self.phase = FullFeaturePhase(
            portal: configuration.portal,
            connectionID: configuration.login.connectionID,
            allocator: allocator,
            logger: logger
        )
    }

    /// The command window as it stands, for status reports.
    var window: CommandWindow { phase.window }

    var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    // MARK: Login

    /// The channel is connected: send the first Login Request and start the login clock.
    mutating func channelActive(now: NIODeadline) -> Action {
        guard case .waitingForActive = state else { return .none }
        var login = LoginStateMachine(configuration: configuration.login)
        let action = login.start(now: now)
        state = .loggingIn(login)
        return loginAction(action, now: now)
    }

    private mutating func loginAction(_ action: LoginStateMachine.Action, now: NIODeadline) -> Action {
        switch action {
        case .sendLoginRequest(let request):
            return .write(.loginRequest(request))
        case .armTimer, .wait:
            // The next deadline is the login's own, which `timerToArm()` reports.
            return .none
        case .succeeded(let result):
            state = .fullFeature
            phase.enterFullFeaturePhase(
                result,
                keepaliveInterval: configuration.keepaliveInterval,
                keepaliveTimeout: configuration.keepaliveTimeout,
                now: now
            )
            return .loggedIn(result)
        case .redirect(let host, let port, let permanent):
            let portal = TargetPortal(host: host, port: port)
            return close(
                ISCSIError(.redirected, scope: .connection, "\(configuration.portal) redirected the login to \(portal)"),
                login: .redirected(portal, permanent: permanent),
                closesChannel: false
            )
        case .failed(let error):
            return fail(error)
        }
    }

    // MARK: Inbound

    /// One PDU arrived from the target.
    mutating func received(_ pdu: ISCSIPDU, now: NIODeadline) -> Action {
        switch state {
        case .fullFeature:
            let action = phase.received(pdu, now: now)
            if case .close(let closure) = action { state = .closed(closure.error) }
            return action
        case .loggingIn(var login):
            let action: LoginStateMachine.Action
            if case .loginResponse(let response) = pdu {
                action = login.receivedLoginResponse(response)
            } else {
                action = login.receivedPDU(opcode: pdu.opcode)
            }
            state = .loggingIn(login)
            return loginAction(action, now: now)
        case .waitingForActive, .closed:
            return .none
        }
    }

    /// The decoder has read the header of a Data-In whose `length`-byte payload is still
    /// arriving: the buffer its read is assembled in, for the decoder to append to, if any.
    mutating func payloadDestination(for header: ISCSIPDU, length: Int) -> ByteBuffer? {
        guard case .fullFeature = state, case .dataIn(let dataIn) = header else { return nil }
        return phase.lendReadBuffer(for: dataIn, length: length)
    }

    // MARK: Submissions

    /// Work a caller queued: send it, let it wait for the window or login, or fail it.
    mutating func submitted(_ submission: SubmissionQueue.Submission, now: NIODeadline) -> Action {
        switch state {
        case .fullFeature:
            let action = phase.start(submission, now: now)
            if case .close(let closure) = action { state = .closed(closure.error) }
            return action
        case .closed(let error):
            return .failSubmission(submission, error)
        case .waitingForActive, .loggingIn:
            // Login is still running; it goes out once the login ends.
            phase.wait(submission)
            return .none
        }
    }

    /// The next waiting submission the window now lets out, or nil when none may go yet.
    /// Call it until nil after every read burst.
    mutating func sendNextWaiting(now: NIODeadline) -> Action? {
        guard case .fullFeature = state else { return nil }
        let action = phase.sendNextWaiting(now: now)
        if case .close(let closure)? = action { state = .closed(closure.error) }
        return action
    }

    // MARK: Timer

    /// When the handler's timer must be (re)armed, or nil when the armed one is early enough.
    mutating func timerToArm() -> NIODeadline? {
        let next: NIODeadline?
        switch state {
        case .loggingIn(let login): next = login.deadline
        case .fullFeature: next = phase.nextDeadline
        case .waitingForActive, .closed: next = nil
        }
        guard let next else { return nil }
        if let armedDeadline, armedDeadline <= next { return nil }
        armedDeadline = next
        return next
    }

    /// The handler's timer fired at `now`.
    mutating func timerFired(now: NIODeadline) -> Action {
        armedDeadline = nil
        switch state {
        case .loggingIn(var login):
            let action = login.timerFired(now: now)
            state = .loggingIn(login)
            return loginAction(action, now: now)
        case .fullFeature:
            let action = phase.timerFired(now: now)
            if case .close(let closure) = action { state = .closed(closure.error) }
            return action
        case .waitingForActive, .closed:
            return .none
        }
    }

    // MARK: Shutdown

    /// The channel went inactive. `readError` is what the decoder said about bytes left over
    /// (a PDU cut short), which explains the end better than "closed".
    mutating func channelInactive(readError: ISCSIError?) -> Action {
        let closedError = ISCSIError(.connectionClosed, scope: .connection, "\(configuration.portal) closed the connection")
        switch state {
        case .closed:
            // We closed it ourselves after a failure; that error already went out.
            return .none
        case .loggingIn(let login):
            return close(readError ?? login.closedByTarget(portal: "\(configuration.portal)"), closesChannel: false)
        case .waitingForActive:
            return close(readError ?? closedError, closesChannel: false)
        case .fullFeature:
            // The target hanging up is a lost connection like any other (after a logout the
            // state is already closed, so no loss is reported then).
            return close(readError ?? closedError, reportsLoss: true, closesChannel: false)
        }
    }

    /// The handler left the pipeline: whatever is still open ends.
    mutating func handlerRemoved() -> Action {
        guard !isClosed else { return .none }
        return close(
            ISCSIError(.connectionClosed, scope: .connection, "the connection to \(configuration.portal) was torn down"),
            closesChannel: false
        )
    }

    /// Reading or writing failed, or a PDU broke the protocol: end the connection with `error`.
    mutating func fail(_ error: ISCSIError) -> Action {
        switch state {
        case .closed:
            return .none
        case .fullFeature:
            return close(error, reportsLoss: true, closesChannel: true)
        case .waitingForActive, .loggingIn:
            return close(error, closesChannel: true)
        }
    }

    private mutating func close(
        _ error: ISCSIError,
        reportsLoss: Bool = false,
        login: LoginEnding? = nil,
        closesChannel: Bool
    ) -> Action {
        let ending: LoginEnding
        switch state {
        case .waitingForActive, .loggingIn: ending = login ?? .failed
        case .fullFeature, .closed: ending = .settled
        }
        state = .closed(error)
        armedDeadline = nil
        return .close(phase.close(error, reportsLoss: reportsLoss, login: ending, closesChannel: closesChannel))
    }
}
