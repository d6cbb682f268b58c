// The thread that owns one libiscsi context: it polls the context's socket for the
// events libiscsi asks for, services it, runs submitted jobs and drives the timers.

import CLibISCSI
import ISCSIAddress
import Logging
import NIOConcurrencyHelpers
import NIOCore
import SCSI

#if canImport(Glibc)
import Glibc
#endif

/// One libiscsi context driven by a poll() loop on a thread of its own.
///
/// libiscsi is single-threaded: every call on a context, and every callback it
/// makes, happens on this loop's thread. Other threads reach it only through
/// `enqueue`, which appends a job under a lock and wakes the loop through an
/// eventfd. The socket is looked up again before every poll() because libiscsi
/// replaces the connection on reconnect (keeping or changing the descriptor
/// number); poll() holds no registration that could go stale, which an epoll
/// based loop such as NIO's selector would.
///
/// Why no CPU spin when the target dies (libiscsi issue #241): the loop never
/// polls a descriptor libiscsi did not ask for (fd < 0 or no events while a
/// reconnect backs off), every poll() has a timeout no shorter than what is left
/// of the tick, and a descriptor that reports POLLHUP/POLLERR again after
/// libiscsi serviced it is left out of poll() for `hangupQuarantine`.
final class LibISCSIEventLoop: @unchecked Sendable {
    // @unchecked Sendable, and why it holds: the class owns a libiscsi context, which is not
    // thread-safe, so one thread (started by `start()`, running `run()`) is its only user.
    // - What other threads may touch is either immutable (`url`, `configuration`, `logger`,
    //   `wakeFD`: writing the eventfd is a thread-safe syscall) or behind a lock (`inbox`,
    //   `statisticsBox`, `lossBox`, `threadBox`, each a NIOLockedValueBox).
    // - The methods callable from elsewhere (`execute`, `shutdown`, `reconnect`, `revoke`,
    //   `threadResourceUsage`, `statistics`, `connectionLoss`, `threadCPUTime`) read only
    //   those, or hand a job to `enqueue`, which appends to the locked `inbox` and wakes the
    //   loop; jobs run inside `runJobs()` on the loop thread.
    // - Every `private var` (`context`, `phase`, `commands`, the timers, the waiters) is read
    //   and written only by `run()` and the jobs and libiscsi callbacks it drives, all on the
    //   loop thread; `start()` writes none of them before the thread exists.

    typealias Job = @Sendable (LibISCSIEventLoop) -> Void

    /// Counters for tests and diagnostics.
    struct Statistics: Sendable, Hashable {
        /// poll() returns, whatever woke it.
        var wakeups: UInt64 = 0
        var serviceCalls: UInt64 = 0
        var nopsSent: UInt64 = 0
        /// Reconnects we asked libiscsi for (missed NOP replies, or `reconnect()`).
        var reconnectsRequested: UInt64 = 0
        /// Times the socket libiscsi reported was a different descriptor than before.
        var descriptorChanges: UInt64 = 0
        /// Times a hung-up descriptor was left out of poll() to avoid a spin.
        var quarantines: UInt64 = 0
        var commandsTimedOut: UInt64 = 0
        /// Connections declared lost with `autoReconnect` off (keepalive, hang-up, socket error).
        var connectionsLost: UInt64 = 0
    }

    private struct Inbox {
        var jobs: [Job] = []
        /// An eventfd write is outstanding; more jobs need no further write.
        var wakePending = false
        var stopped = false
    }

    private enum Phase {
        case idle
        case loggingIn(CheckedContinuation<Void, any Error>, deadline: NIODeadline)
        case loggedIn
        /// The connection was lost with `autoReconnect` off: the context is gone, and every
        /// command fails at once with this message until the device is closed.
        case lost(String)
        case loggingOut(deadline: NIODeadline)
        case stopped
    }

    /// How long a descriptor that keeps reporting a hang-up is left out of poll().
    static let hangupQuarantine = TimeAmount.milliseconds(100)
    /// How long close() waits for the target to answer the Logout.
    static let logoutTimeout = TimeAmount.seconds(2)
    /// POLLRDHUP (Linux): the peer shut down its side; the Glibc module leaves it out.
    static let pollReadHangup: Int16 = 0x2000
    /// How long libiscsi asks us to wait when it wants no events (iscsi.h: >= 100 ms).
    static let idleWait = TimeAmount.milliseconds(100)

    let url: ISCSITargetURL
    let configuration: LibISCSIConfiguration
    let logger: Logger

    private let inbox = NIOLockedValueBox(Inbox())
    private let statisticsBox = NIOLockedValueBox(Statistics())
    private let lossBox = NIOLockedValueBox<String?>(nil)
    private let threadBox = NIOLockedValueBox<pthread_t?>(nil)
    private let wakeFD: Int32

    // Loop-thread state.
    private var context: OpaquePointer?
    private var phase: Phase = .idle
    private var commands: [LibISCSICommand?] = []
    private var freeSlots: [Int] = []
    private var nextTick = NIODeadline.now()
    private var nextNOP = NIODeadline.distantFuture
    /// When the oldest NOP-Out libiscsi still counts as unanswered was sent.
    private var oldestUnansweredNOP: NIODeadline?
    /// Set from a callback when libiscsi gave up the connection (`autoReconnect` off);
    /// acted upon after `iscsi_service` returns.
    private var lossInCallback: String?
    private var lastDescriptor: Int32 = -1
    private var quarantine: (descriptor: Int32, until: NIODeadline)?
    private var shutdownWaiters: [CheckedContinuation<Void, Never>] = []
    /// Set by libiscsi's callbacks; acted upon after `iscsi_service` returns,
    /// because a context must not be destroyed from inside its own callback.
    private var loginOutcome: Result<Void, LibISCSIEngineError>?
    private var logoutAnswered = false
    /// While true, libiscsi's CANCELLED means "closed by us".
    private var closing = false

    init(url: ISCSITargetURL, configuration: LibISCSIConfiguration, logger: Logger) throws {
        self.url = url
        self.configuration = configuration
        self.logger = logger
        let descriptor = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard descriptor >= 0 else {
            throw LibISCSIEngineError.transport("could not create an eventfd: \(String(cString: strerror(errno)))")
        }
        wakeFD = descriptor
    }

    var statistics: Statistics { statisticsBox.withLockedValue { $0 } }

    /// Why the connection was lost with `autoReconnect` off; nil until then.
    var connectionLoss: String? { lossBox.withLockedValue { $0 } }

    /// CPU time the loop thread has used so far, nil once it has ended.
    var threadCPUTime: TimeAmount? {
        threadBox.withLockedValue { thread -> TimeAmount? in
            guard let thread else { return nil }
            var clock = clockid_t()
            guard pthread_getcpuclockid(thread, &clock) == 0 else { return nil }
            var time = timespec()
            guard clock_gettime(clock, &time) == 0 else { return nil }
            return .nanoseconds(Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec))
        }
    }

    /// getrusage(RUSAGE_THREAD) of the loop thread, user plus system; nil once the loop has ended.
    func threadResourceUsage() async -> TimeAmount? {
        await withCheckedContinuation { (continuation: CheckedContinuation<TimeAmount?, Never>) in
            let accepted = enqueue { _ in
                var usage = rusage()
                // RUSAGE_THREAD (1) is Linux-only and hidden behind _GNU_SOURCE in the headers.
                getrusage(1, &usage)
                func nanoseconds(_ time: timeval) -> Int64 { Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_usec) * 1000 }
                continuation.resume(returning: .nanoseconds(nanoseconds(usage.ru_utime) + nanoseconds(usage.ru_stime)))
            }
            if !accepted { continuation.resume(returning: nil) }
        }
    }

    // MARK: Entry points for any thread

    /// Starts the thread, creates the context and logs in; throws when the login fails or times out.
    func start() async throws {
        let retained = Unmanaged.passRetained(self)
        var thread = pthread_t()
        let created = pthread_create(&thread, nil, { argument in
            let loop = Unmanaged<LibISCSIEventLoop>.fromOpaque(argument!).takeRetainedValue()
            loop.run()
            return nil
        }, retained.toOpaque())
        guard created == 0 else {
            retained.release()
            close(wakeFD)
            throw LibISCSIEngineError.transport("could not start the libiscsi thread: \(String(cString: strerror(created)))")
        }
        pthread_detach(thread)
        threadBox.withLockedValue { $0 = thread }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let accepted = enqueue { loop in loop.beginLogin(continuation) }
            if !accepted { continuation.resume(throwing: LibISCSIEngineError.closed) }
        }
    }

    /// Runs `command` on the loop and returns what the target answered.
    func execute(_ command: LibISCSICommand) async throws -> LibISCSICommandResult {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<LibISCSICommandResult, any Error>) in
                command.continuation = continuation
                let accepted = enqueue { loop in loop.startCommand(command) }
                if !accepted {
                    command.continuation = nil
                    continuation.resume(throwing: LibISCSIEngineError.closed)
                }
            }
        } onCancel: {
            _ = enqueue { loop in loop.abandon(command, because: .cancelled) }
        }
    }

    /// Logs out (bounded by `logoutTimeout`), destroys the context and ends the thread.
    /// Commands still in flight fail with `.closed`. Safe to call more than once.
    func shutdown() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let accepted = enqueue { loop in loop.beginShutdown(continuation) }
            if !accepted { continuation.resume() }
        }
    }

    /// Drops the connection and has libiscsi log in again; commands in flight are
    /// re-sent on the new connection. Returns once libiscsi has started the reconnect.
    func reconnect() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let accepted = enqueue { loop in
                loop.requestReconnect()
                continuation.resume()
            }
            if !accepted { continuation.resume() }
        }
    }

    /// Takes back every command: callers are answered with `.revoked`, and the context is
    /// destroyed after its socket is set to reset on close, so neither libiscsi (which would
    /// send again what it holds after a reconnect) nor the kernel (what it holds unsent) can
    /// deliver any of them later. libiscsi 1.19 cannot cancel what a reconnect holds, nor a
    /// queued command without leaving a CmdSN hole, so the context goes as a whole: the loop
    /// then fails every command naming the revocation, and its device logs in on a new one.
    func revoke(reason: String) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let accepted = enqueue { loop in
                loop.revokeCommands(reason)
                continuation.resume()
            }
            if !accepted { continuation.resume() }
        }
    }

    /// Hands `job` to the loop thread; false when the loop has ended.
    @discardableResult
    func enqueue(_ job: @escaping Job) -> Bool {
        inbox.withLockedValue { inbox in
            guard !inbox.stopped else { return false }
            inbox.jobs.append(job)
            if !inbox.wakePending {
                inbox.wakePending = true
                // Written under the lock so the loop cannot close the eventfd in between.
                _ = eventfd_write(wakeFD, 1)
            }
            return true
        }
    }

    // MARK: The loop

    private func run() {
        nextTick = .now() + configuration.tickInterval
        // Bounded by the phase: every path out of `.idle`/`.loggingIn`/`.loggedIn`
        // reaches `.stopped` (login failure, login deadline, shutdown).
        while true {
            runJobs()
            settleCallbacks()
            if case .stopped = phase { break }
            let now = NIODeadline.now()
            if now >= nextTick {
                tick(now: now)
                settleCallbacks()
                if case .stopped = phase { break }
                nextTick = now + configuration.tickInterval
            }
            waitAndService()
        }
        finishThread()
    }

    private func runJobs() {
        let jobs = inbox.withLockedValue { inbox -> [Job] in
            inbox.wakePending = false
            defer { inbox.jobs.removeAll(keepingCapacity: true) }
            return inbox.jobs
        }
        for job in jobs { job(self) }
    }

    private func waitAndService() {
        var descriptors = [pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)]
        let now = NIODeadline.now()
        var waitUntil = nextTick
        if let context {
            let descriptor = iscsi_get_fd(context)
            let events = iscsi_which_events(context)
            if descriptor != lastDescriptor {
                if lastDescriptor >= 0, descriptor >= 0 { count(\.descriptorChanges) }
                lastDescriptor = descriptor
                quarantine = nil
            }
            if let held = quarantine, held.descriptor == descriptor, now < held.until {
                waitUntil = min(waitUntil, held.until)
            } else if descriptor >= 0, events != 0 {
                quarantine = nil
                // Without reconnects, a FIN must be seen even with nothing to read or write.
                let hangup = configuration.autoReconnect ? 0 : Int32(Self.pollReadHangup)
                descriptors.append(pollfd(fd: descriptor, events: Int16(truncatingIfNeeded: events | hangup), revents: 0))
            } else {
                // libiscsi wants nothing for now (a reconnect backing off): come back later.
                waitUntil = min(waitUntil, now + Self.idleWait)
            }
        }
        // Rounded up: a timeout rounded down to 0 would return at once, again and
        // again, for the last fraction of a millisecond before the deadline.
        let milliseconds = max(0, Int32(clamping: ((waitUntil - now).nanoseconds + 999_999) / 1_000_000))
        let ready = poll(&descriptors, nfds_t(descriptors.count), milliseconds)
        count(\.wakeups)
        guard ready > 0 else {
            if ready < 0, errno != EINTR {
                logger.error("libiscsi loop poll() failed", metadata: ["libiscsi.error": "\(String(cString: strerror(errno)))"])
                // Wait out the tick rather than retry at once.
                usleep(UInt32(clamping: configuration.tickInterval.nanoseconds / 1000))
            }
            return
        }
        if descriptors[0].revents != 0 {
            var value: eventfd_t = 0
            _ = eventfd_read(wakeFD, &value)
        }
        guard descriptors.count > 1, descriptors[1].revents != 0, let context else { return }
        let watched = descriptors[1].fd
        let revents = descriptors[1].revents
        let serviced = iscsi_service(context, Int32(revents & ~Self.pollReadHangup))
        if serviced < 0 {
            logger.debug("iscsi_service failed", metadata: ["libiscsi.error": "\(lastError)"])
        }
        count(\.serviceCalls)
        let hangup = Int16(POLLHUP) | Int16(POLLERR) | Int16(POLLNVAL)
        if !configuration.autoReconnect, case .loggedIn = phase {
            if let reason = lossInCallback {
                failConnection(reason)
                return
            }
            if revents & (hangup | Self.pollReadHangup) != 0 || serviced < 0 {
                failConnection(revents & Self.pollReadHangup != 0 ? "the target closed the connection" : "socket error: \(lastError)")
                return
            }
        }
        if !configuration.autoReconnect, case .loggingOut = phase, revents & (hangup | Self.pollReadHangup) != 0 {
            // The target closed instead of answering the Logout; libiscsi would only see
            // the end of the stream again on every poll until the logout deadline.
            finishShutdown()
            return
        }
        if revents & hangup != 0, let current = self.context, iscsi_get_fd(current) == watched {
            quarantine = (watched, NIODeadline.now() + Self.hangupQuarantine)
            count(\.quarantines)
        }
    }

    private func tick(now: NIODeadline) {
        if let context {
            // Runs libiscsi's own PDU timeouts and its reconnect back-off.
            _ = iscsi_service(context, 0)
            count(\.serviceCalls)
            if let reason = lossInCallback, case .loggedIn = phase { failConnection(reason) }
        }
        expireCommands(now: now)
        switch phase {
        case .loggingIn(let continuation, let deadline) where now >= deadline:
            logger.info("libiscsi login timed out", metadata: ["libiscsi.url": "\(url)"])
            continuation.resume(throwing: LibISCSIEngineError.timeout(
                "no login within \(configuration.loginTimeout.inSeconds) s (\(lastError))"
            ))
            phase = .idle
            finishShutdown()
        case .loggedIn:
            keepalive(now: now)
        case .loggingOut(let deadline) where now >= deadline:
            logger.debug("target did not answer the Logout in time; closing anyway")
            finishShutdown()
        case .idle, .loggingIn, .lost, .loggingOut, .stopped:
            break
        }
    }

    /// Acts on what libiscsi's login and logout callbacks recorded.
    private func settleCallbacks() {
        if var outcome = loginOutcome {
            loginOutcome = nil
            if case .success = outcome, let failure = interfaceBindingFailure() { outcome = .failure(failure) }
            if case .loggingIn(let continuation, _) = phase {
                switch outcome {
                case .success:
                    phase = .loggedIn
                    if let interval = configuration.nopInterval { nextNOP = .now() + interval }
                    continuation.resume()
                case .failure(let error):
                    phase = .idle
                    continuation.resume(throwing: error)
                    finishShutdown()
                }
            }
        }
        if logoutAnswered {
            logoutAnswered = false
            if case .loggingOut = phase { finishShutdown() }
        }
    }

    /// A NOP-Out every `nopInterval`; one unanswered for `nopTimeout` means the connection
    /// is lost (a frozen target sends no FIN or RST, so nothing else would tell).
    private func keepalive(now: NIODeadline) {
        guard let interval = configuration.nopInterval, let context, iscsi_is_logged_in(context) != 0 else { return }
        // libiscsi sets its count back to 0 when a NOP-In answers.
        if iscsi_get_nops_in_flight(context) == 0 { oldestUnansweredNOP = nil }
        if let sent = oldestUnansweredNOP, now - sent >= configuration.nopTimeout {
            oldestUnansweredNOP = nil
            connectionLost("no answer to a NOP-Out within \(configuration.nopTimeout.inSeconds) s")
            return
        }
        guard now >= nextNOP else { return }
        nextNOP = now + interval
        if iscsi_nop_out_async(context, nil, nil, 0, nil) == 0 {
            count(\.nopsSent)
            if oldestUnansweredNOP == nil { oldestUnansweredNOP = now }
        }
    }

    /// The connection is gone: libiscsi logs in again (`autoReconnect`), or the engine fails.
    private func connectionLost(_ reason: String) {
        guard configuration.autoReconnect else {
            failConnection(reason)
            return
        }
        logger.info("libiscsi connection lost; reconnecting", metadata: ["libiscsi.url": "\(url)", "libiscsi.reason": "\(reason)"])
        requestReconnect()
    }

    /// Fails every command in flight and every later one with `.transport`, and drops the
    /// context (libiscsi answers what it still holds with CANCELLED, which finds the callers
    /// already answered). Never called from inside a libiscsi callback.
    private func failConnection(_ reason: String) {
        guard case .loggedIn = phase else { return }
        let message = "the connection to \(url.endpoint) was lost (\(reason)); this device does not reconnect (autoReconnect off): close it and open it again"
        logger.info("libiscsi connection lost", metadata: ["libiscsi.url": "\(url)", "libiscsi.reason": "\(reason)"])
        phase = .lost(message)
        lossBox.withLockedValue { $0 = message }
        count(\.connectionsLost)
        for case let command? in commands where command.continuation != nil {
            command.resume(with: .failure(LibISCSIEngineError.transport(message)))
        }
        if let context {
            // Cleared first, so nothing reads the context while libiscsi tears it down.
            self.context = nil
            Self.discardUnsentOnClose(iscsi_get_fd(context))
            iscsi_destroy_context(context)
        }
        lossInCallback = nil
        lastDescriptor = -1
        quarantine = nil
    }

    private func revokeCommands(_ reason: String) {
        for case let command? in commands where command.continuation != nil {
            command.resume(with: .failure(LibISCSIEngineError.revoked(reason)))
        }
        switch phase {
        case .loggedIn, .lost:
            let message = "its commands were revoked (\(reason)); this connection is given up"
            phase = .lost(message)
            lossBox.withLockedValue { $0 = message }
            if let context {
                self.context = nil
                Self.discardUnsentOnClose(iscsi_get_fd(context))
                // libiscsi answers what it held with CANCELLED; the callers were answered above.
                closing = true
                iscsi_destroy_context(context)
                closing = false
            }
            lossInCallback = nil
            lastDescriptor = -1
            quarantine = nil
        case .idle, .loggingIn, .loggingOut, .stopped:
            break
        }
    }

    /// Makes closing `descriptor` reset the connection and drop what the kernel still holds
    /// unsent (SO_LINGER, zero timeout): the connection is given up for lost, maybe only silent,
    /// and a command written to it must not reach the target after it was retried elsewhere.
    private static func discardUnsentOnClose(_ descriptor: Int32) {
        guard descriptor >= 0 else { return }
        var option = linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(descriptor, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
    }

    private func requestReconnect() {
        guard let context, case .loggedIn = phase else { return }
        count(\.reconnectsRequested)
        if iscsi_reconnect(context) != 0 {
            logger.info("libiscsi refused to reconnect", metadata: ["libiscsi.error": "\(lastError)"])
        }
    }

    // MARK: Login and shutdown (loop thread)

    private func beginLogin(_ continuation: CheckedContinuation<Void, any Error>) {
        guard case .idle = phase, context == nil else {
            continuation.resume(throwing: LibISCSIEngineError.transport("the engine was already started"))
            return
        }
        guard let context = iscsi_create_context(configuration.initiatorName) else {
            continuation.resume(throwing: LibISCSIEngineError.transport("libiscsi could not create a context"))
            finishShutdown()
            return
        }
        self.context = context
        phase = .loggingIn(continuation, deadline: .now() + configuration.loginTimeout)
        iscsi_set_session_type(context, ISCSI_SESSION_NORMAL)
        iscsi_set_targetname(context, url.targetName)
        iscsi_set_header_digest(context, Self.headerDigest(configuration.headerDigest ?? url.headerDigest.map(LibISCSIConfiguration.HeaderDigest.init) ?? LibISCSIConfiguration.HeaderDigest.none))
        if let immediateData = configuration.immediateData {
            iscsi_set_immediate_data(context, immediateData ? ISCSI_IMMEDIATE_DATA_YES : ISCSI_IMMEDIATE_DATA_NO)
        }
        if let initialR2T = configuration.initialR2T {
            iscsi_set_initial_r2t(context, initialR2T ? ISCSI_INITIAL_R2T_YES : ISCSI_INITIAL_R2T_NO)
        }
        if let chap = configuration.chap {
            iscsi_set_initiator_username_pwd(context, chap.user, chap.secret)
            if let user = chap.targetUser, let secret = chap.targetSecret {
                iscsi_set_target_username_pwd(context, user, secret)
            }
        } else if let user = url.user, let password = url.password {
            iscsi_set_initiator_username_pwd(context, user, password)
            if let user = url.targetUser, let password = url.targetPassword {
                iscsi_set_target_username_pwd(context, user, password)
            }
        }
        // libiscsi's own PDU timeout, in whole seconds (0 would mean none).
        let seconds = max(1, Int32(clamping: (configuration.commandTimeout.nanoseconds + 999_999_999) / 1_000_000_000))
        iscsi_set_timeout(context, seconds)
        iscsi_set_reconnect_max_retries(context, Int32(clamping: configuration.reconnectMaximumRetries ?? -1))
        if let level = configuration.libiscsiLogLevel, level > 0 {
            // libiscsi's log callback has no context argument, so it goes to stderr as libiscsi formats it.
            iscsi_set_log_level(context, Int32(clamping: level))
            iscsi_set_log_fn(context, iscsi_log_to_stderr)
        }
        if let interface = configuration.source?.interface {
            // libiscsi copies the list and sets SO_BINDTODEVICE on every socket it opens.
            var name = Array(interface.utf8CString)
            name.withUnsafeMutableBufferPointer { iscsi_set_bind_interfaces(context, $0.baseAddress) }
        }
        iscsi_set_noautoreconnect(context, configuration.autoReconnect ? 0 : 1)
        let this = Unmanaged.passUnretained(self).toOpaque()
        if iscsi_full_connect_async(context, url.endpoint.description, Int32(url.lun), loginCallback, this) != 0 {
            loginOutcome = .failure(.transport(lastError))
        }
    }

    /// libiscsi only logs a refused SO_BINDTODEVICE and connects unbound, so the socket
    /// is asked which device it is bound to once the login succeeded.
    private func interfaceBindingFailure() -> LibISCSIEngineError? {
        guard let interface = configuration.source?.interface, let context else { return nil }
        var name = [CChar](repeating: 0, count: 16)
        var length = socklen_t(name.count)
        let descriptor = iscsi_get_fd(context)
        guard getsockopt(descriptor, SOL_SOCKET, SO_BINDTODEVICE, &name, &length) == 0 else {
            return .transport("could not check the interface binding: \(String(cString: strerror(errno)))")
        }
        let bound = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard bound != interface else { return nil }
        return .transport(
            "libiscsi did not bind the connection to interface \(interface) (bound: \(bound.isEmpty ? "none" : bound)); "
                + "SO_BINDTODEVICE needs Linux 5.7 or later, or CAP_NET_RAW"
        )
    }

    fileprivate func loginCompleted(status: Int32) {
        // libiscsi may call a connect callback a second time when the connection
        // later drops; only the first answer is the login's.
        guard case .loggingIn = phase, loginOutcome == nil else { return }
        if status == Int32(SCSI_STATUS_GOOD.rawValue) {
            loginOutcome = .success(())
        } else {
            loginOutcome = .failure(.transport(lastError))
        }
    }

    fileprivate func logoutCompleted() {
        logoutAnswered = true
    }

    private func beginShutdown(_ continuation: CheckedContinuation<Void, Never>) {
        shutdownWaiters.append(continuation)
        switch phase {
        case .loggingOut:
            return
        case .stopped:
            // Already shut down (or shutting down right now): nothing left to wait for.
            shutdownWaiters.removeLast()
            continuation.resume()
        case .loggingIn(let login, _):
            login.resume(throwing: LibISCSIEngineError.closed)
            phase = .idle
            finishShutdown()
        case .idle, .lost:
            finishShutdown()
        case .loggedIn:
            guard let context, iscsi_is_logged_in(context) != 0,
                  iscsi_logout_async(context, logoutCallback, Unmanaged.passUnretained(self).toOpaque()) == 0
            else {
                finishShutdown()
                return
            }
            phase = .loggingOut(deadline: .now() + Self.logoutTimeout)
        }
    }

    /// Destroys the context (libiscsi answers every queued command with CANCELLED)
    /// and stops accepting jobs. Never called from inside a libiscsi callback.
    private func finishShutdown() {
        closing = true
        if let context {
            iscsi_destroy_context(context)
            self.context = nil
        }
        for case let command? in commands where command.continuation != nil {
            // libiscsi answers everything it holds on destroy; this is only a backstop.
            command.resume(with: .failure(LibISCSIEngineError.closed))
        }
        phase = .stopped
        let late = inbox.withLockedValue { inbox -> [Job] in
            inbox.stopped = true
            defer { inbox.jobs.removeAll() }
            return inbox.jobs
        }
        // Jobs that raced with the shutdown see no context and fail with `.closed`.
        for job in late { job(self) }
        let waiters = shutdownWaiters
        shutdownWaiters.removeAll()
        for waiter in waiters { waiter.resume() }
    }

    private func finishThread() {
        inbox.withLockedValue { inbox in
            inbox.stopped = true
            close(wakeFD)
        }
        threadBox.withLockedValue { $0 = nil }
    }

    // MARK: Commands (loop thread)

    private func startCommand(_ command: LibISCSICommand) {
        guard command.continuation != nil else { return }
        if case .lost(let message) = phase {
            command.resume(with: .failure(LibISCSIEngineError.transport(message)))
            return
        }
        guard let context, case .loggedIn = phase else {
            command.resume(with: .failure(LibISCSIEngineError.closed))
            return
        }
        var cdb = command.cdb
        let direction: scsi_xfer_dir = switch command.transfer {
        case .none: SCSI_XFER_NONE
        case .read: SCSI_XFER_READ
        case .write: SCSI_XFER_WRITE
        }
        let length = command.expectedTransferLength
        let task = cdb.withUnsafeMutableBufferPointer { bytes in
            scsi_create_task(Int32(bytes.count), bytes.baseAddress, Int32(direction.rawValue), Int32(length))
        }
        guard let task else {
            command.resume(with: .failure(LibISCSIEngineError.transport("libiscsi could not allocate a task")))
            return
        }
        command.task = task
        var data = iscsi_data(size: 0, data: nil)
        switch command.transfer {
        case .none:
            break
        case .read(let length):
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: length, alignment: 64)
            command.dataIn = buffer
            guard scsi_task_add_data_in_buffer(task, Int32(length), buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)) == 0 else {
                command.releaseResources()
                command.resume(with: .failure(LibISCSIEngineError.transport("libiscsi could not take the read buffer")))
                return
            }
        case .write(let buffer):
            buffer.withUnsafeReadableBytesWithStorageManagement { bytes, storage in
                command.dataOutStorage = storage.retain()
                data = iscsi_data(
                    size: bytes.count,
                    data: UnsafeMutablePointer(mutating: bytes.baseAddress!.assumingMemoryBound(to: UInt8.self))
                )
            }
        }
        insert(command)
        command.loop = self
        let retained = Unmanaged.passRetained(command)
        let submitted = withUnsafeMutablePointer(to: &data) { data in
            iscsi_scsi_command_async(
                context,
                Int32(command.lun),
                task,
                commandCallback,
                command.dataOutStorage == nil ? nil : data,
                retained.toOpaque()
            )
        }
        if submitted != 0 {
            command.loop = nil
            retained.release()
            remove(command)
            command.releaseResources()
            command.resume(with: .failure(LibISCSIEngineError.transport(lastError)))
        }
    }

    fileprivate func commandCompleted(_ command: LibISCSICommand, status: Int32) {
        command.loop = nil
        remove(command)
        let outcome = result(of: command, status: status)
        command.releaseResources()
        command.resume(with: outcome)
    }

    private func result(of command: LibISCSICommand, status: Int32) -> Result<LibISCSICommandResult, any Error> {
        switch status {
        case Int32(SCSI_STATUS_GOOD.rawValue), Int32(SCSI_STATUS_CONDITION_MET.rawValue):
            return .success(LibISCSICommandResult(status: SCSIStatus(rawValue: UInt8(status)), data: dataIn(of: command), sense: []))
        case Int32(SCSI_STATUS_CHECK_CONDITION.rawValue):
            return .success(LibISCSICommandResult(status: .checkCondition, data: ByteBuffer(), sense: sense(of: command)))
        case 0...0xFF:
            // RESERVATION CONFLICT, and any other status libiscsi passes through as it came.
            return .success(LibISCSICommandResult(status: SCSIStatus(rawValue: UInt8(status)), data: ByteBuffer(), sense: []))
        case Int32(bitPattern: SCSI_STATUS_TIMEOUT.rawValue):
            count(\.commandsTimedOut)
            return .failure(LibISCSIEngineError.timeout("libiscsi timed the command out after \(configuration.commandTimeout.inSeconds) s"))
        case Int32(bitPattern: SCSI_STATUS_CANCELLED.rawValue):
            if closing { return .failure(LibISCSIEngineError.closed) }
            if !configuration.autoReconnect {
                // libiscsi cancels what it holds when the connection breaks and it may not reconnect.
                lossInCallback = lossInCallback ?? lastError
                return .failure(LibISCSIEngineError.transport("the connection to \(url.endpoint) was lost (\(lastError)); reconnecting is off"))
            }
            return .failure(LibISCSIEngineError.transport("libiscsi cancelled the command: the connection was lost and not re-established (\(lastError))"))
        default:
            // libiscsi 1.19 turns BUSY and TASK SET FULL into SCSI_STATUS_ERROR and
            // keeps the real status only in its error text.
            let text = lastError
            if let raw = Self.statusInErrorText(text) {
                return .success(LibISCSICommandResult(status: SCSIStatus(rawValue: raw), data: ByteBuffer(), sense: []))
            }
            return .failure(LibISCSIEngineError.transport(text))
        }
    }

    /// The SCSI status in libiscsi's "Unknown SCSI status :8." or
    /// "Cant handle  scsi status 40 yet." error texts, if that is what it says.
    static func statusInErrorText(_ text: String) -> UInt8? {
        for prefix in ["Unknown SCSI status :", "Cant handle  scsi status "] {
            guard let range = text.range(of: prefix) else { continue }
            let digits = text[range.upperBound...].prefix { $0.isNumber }
            if let value = UInt8(digits) { return value }
        }
        return nil
    }

    private func dataIn(of command: LibISCSICommand) -> ByteBuffer {
        guard let buffer = command.dataIn, let task = command.task else { return ByteBuffer() }
        var length = buffer.count
        if task.pointee.residual_status == SCSI_RESIDUAL_UNDERFLOW {
            length -= min(length, Int(task.pointee.residual))
        }
        var data = ByteBufferAllocator().buffer(capacity: length)
        data.writeBytes(UnsafeRawBufferPointer(rebasing: buffer[0..<length]))
        return data
    }

    /// The sense bytes of a CHECK CONDITION: libiscsi leaves the SCSI Response's data
    /// segment in `datain`, a two-byte SenseLength followed by the sense data.
    private func sense(of command: LibISCSICommand) -> [UInt8] {
        guard let task = command.task, let bytes = task.pointee.datain.data else { return [] }
        let size = Int(task.pointee.datain.size)
        guard size > 2 else { return [] }
        let declared = Int(bytes[0]) << 8 | Int(bytes[1])
        let length = min(declared, size - 2)
        return Array(UnsafeBufferPointer(start: bytes + 2, count: length))
    }

    /// Answers callers whose deadline passed. libiscsi keeps the command (it may be
    /// waiting for a reconnect, where its own timeouts do not run) until it calls
    /// back, so the buffers stay alive until then.
    private func expireCommands(now: NIODeadline) {
        for case let command? in commands where command.continuation != nil && command.deadline <= now {
            count(\.commandsTimedOut)
            abandon(command, because: .deadline)
        }
    }

    private func abandon(_ command: LibISCSICommand, because reason: LibISCSICommand.Abandonment) {
        guard command.continuation != nil else { return }
        command.abandonment = reason
        switch reason {
        case .deadline:
            command.resume(with: .failure(LibISCSIEngineError.timeout(
                "no answer within \(configuration.commandTimeout.inSeconds) s (\(context.map { _ in lastError } ?? "no connection"))"
            )))
        case .cancelled:
            command.resume(with: .failure(CancellationError()))
        }
    }

    private func insert(_ command: LibISCSICommand) {
        if let slot = freeSlots.popLast() {
            commands[slot] = command
            command.slot = slot
        } else {
            command.slot = commands.count
            commands.append(command)
        }
    }

    private func remove(_ command: LibISCSICommand) {
        guard let slot = command.slot else { return }
        commands[slot] = nil
        freeSlots.append(slot)
        command.slot = nil
    }

    // MARK: Helpers

    private var lastError: String {
        guard let context, let text = iscsi_get_error(context) else { return "no error text" }
        let message = String(cString: text)
        return message.isEmpty ? "no error text" : message
    }

    private func count(_ field: WritableKeyPath<Statistics, UInt64>) {
        statisticsBox.withLockedValue { $0[keyPath: field] += 1 }
    }

    static func headerDigest(_ digest: LibISCSIConfiguration.HeaderDigest) -> iscsi_header_digest {
        switch digest {
        case .none: ISCSI_HEADER_DIGEST_NONE
        case .crc32c: ISCSI_HEADER_DIGEST_CRC32C
        case .crc32cOrNone: ISCSI_HEADER_DIGEST_CRC32C_NONE
        case .noneOrCRC32C: ISCSI_HEADER_DIGEST_NONE_CRC32C
        }
    }
}

extension TimeAmount {
    /// Whole and fractional seconds, for messages.
    fileprivate var inSeconds: Double { Double(nanoseconds) / 1_000_000_000 }
}

/// libiscsi's completion for the login started by `iscsi_full_connect_async`.
private let loginCallback: iscsi_command_cb = { _, status, _, privateData in
    guard let privateData else { return }
    Unmanaged<LibISCSIEventLoop>.fromOpaque(privateData).takeUnretainedValue().loginCompleted(status: status)
}

private let logoutCallback: iscsi_command_cb = { _, _, _, privateData in
    guard let privateData else { return }
    Unmanaged<LibISCSIEventLoop>.fromOpaque(privateData).takeUnretainedValue().logoutCompleted()
}

/// libiscsi's completion for one SCSI command; balances the retain made at submission.
private let commandCallback: iscsi_command_cb = { _, status, _, privateData in
    guard let privateData else { return }
    let command = Unmanaged<LibISCSICommand>.fromOpaque(privateData).takeRetainedValue()
    command.loop?.commandCompleted(command, status: status)
}
