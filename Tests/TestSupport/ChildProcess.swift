// A child process of the test run: spawned so that it dies with the test
// process, reaped by PID, and signalled only while it is known to be ours.

#if canImport(Glibc)
import Glibc
#endif
import NIOConcurrencyHelpers
import NIOPosix

public final class ChildProcess: Sendable {
    public let pid: pid_t
    public let commandLine: [String]
    public let stdoutPath: String
    public let stderrPath: String

    /// Set once the child is reaped; after that its PID may belong to
    /// someone else, so it must never be signalled again.
    private let status = NIOLockedValueBox<ProcessExitStatus?>(nil)
    /// Whether its stderr went to the run's transcript already (at reaping, or at SIGKILL for
    /// a child a test kills and never waits for).
    private let transcribed = NIOLockedValueBox(false)

    /// The Linux parent-death signal fires when the *thread* that forked the
    /// child exits, not the process. Swift's cooperative and Dispatch worker
    /// threads come and go, so every spawn happens on this one thread, which
    /// is never shut down and therefore lives as long as the test process.
    private static let spawningThread: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        return pool
    }()

    private init(pid: pid_t, commandLine: [String], stdoutPath: String, stderrPath: String) {
        self.pid = pid
        self.commandLine = commandLine
        self.stdoutPath = stdoutPath
        self.stderrPath = stderrPath
    }

    /// Starts `executable` with stdin from /dev/null and output in files.
    /// The child runs under `setpriv --pdeathsig KILL`, so it is killed if the
    /// test process dies without stopping it (a crash, a killed `swift test`).
    /// With `stderrPath` nil, stderr goes to the stdout file.
    public static func spawn(
        executable: String,
        arguments: [String],
        stdoutPath: String,
        stderrPath: String? = nil
    ) async throws -> ChildProcess {
        let setpriv = try ExternalTool.setpriv.path()
        let argv = [setpriv, "--pdeathsig", "KILL", "--", executable] + arguments
        let errorPath = stderrPath ?? stdoutPath
        let pid = try await spawningThread.runIfActive {
            try posixSpawn(argv: argv, stdoutPath: stdoutPath, stderrPath: stderrPath)
        }
        return ChildProcess(
            pid: pid,
            commandLine: [executable] + arguments,
            stdoutPath: stdoutPath,
            stderrPath: errorPath
        )
    }

    private static func posixSpawn(argv: [String], stdoutPath: String, stderrPath: String?) throws -> pid_t {
        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        let outputFlags = O_WRONLY | O_CREAT | O_TRUNC
        posix_spawn_file_actions_addopen(&fileActions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&fileActions, 1, stdoutPath, outputFlags, 0o644)
        if let stderrPath {
            posix_spawn_file_actions_addopen(&fileActions, 2, stderrPath, outputFlags, 0o644)
        } else {
            posix_spawn_file_actions_adddup2(&fileActions, 1, 2)
        }
        // A daemon must not inherit the test process's sockets: an inherited
        // listening socket would keep a port busy after the test stopped it.
        if let addCloseFrom = addCloseFrom {
            _ = addCloseFrom(&fileActions, 3)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Signal masks and ignored signals survive exec; NIO ignores SIGPIPE
        // and worker threads may block signals, neither of which a daemon
        // should start with (istgt's SIGTERM handling depends on it).
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var defaultSignals = sigset_t()
        sigemptyset(&defaultSignals)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2] {
            sigaddset(&defaultSignals, signal)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) }
        cArguments.append(nil)
        defer { cArguments.forEach { free($0) } }

        var pid = pid_t()
        let result = posix_spawn(&pid, argv[0], &fileActions, &attributes, cArguments, environ)
        guard result == 0 else {
            throw TestSupportError(
                .systemCallFailed,
                "posix_spawn of \(argv.joined(separator: " ")) failed: \(String(cString: strerror(result)))"
            )
        }
        return pid
    }

    /// glibc 2.34+ has posix_spawn_file_actions_addclosefrom_np, but Swift's
    /// Glibc module does not export it (it is a GNU extension), so it is
    /// looked up at run time. Without it only CLOEXEC keeps fds from leaking.
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private static let addCloseFrom: AddCloseFrom? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else {
            return nil
        }
        return unsafeBitCast(symbol, to: AddCloseFrom.self)
    }()

    /// The exit status if the child has ended (reaping it), nil while it runs.
    @discardableResult
    public func pollExit() -> ProcessExitStatus? {
        status.withLockedValue { status in
            if let status {
                return status
            }
            var waitStatus: Int32 = 0
            let result = waitpid(pid, &waitStatus, WNOHANG)
            if result == pid {
                status = ProcessExitStatus(waitStatus: waitStatus)
            } else if result == -1 && errno == ECHILD {
                status = .lost
            }
            // Reaped just now: our programs' stderr goes to the run's transcript, once.
            if status != nil { transcribe() }
            return status
        }
    }

    private func transcribe() {
        let first = transcribed.withLockedValue { done in
            defer { done = true }
            return !done
        }
        if first { ChildTranscript.append(fileAt: stderrPath, of: commandLine) }
    }

    public var isRunning: Bool {
        pollExit() == nil
    }

    /// Sends `signal` unless the child was already reaped; the check and the
    /// kill happen under one lock so a recycled PID is never hit.
    public func send(signal: Int32) {
        status.withLockedValue { status in
            if status == nil {
                _ = kill(pid, signal)
                // A killed child writes nothing more; a test may never reap it.
                if signal == SIGKILL { transcribe() }
            }
        }
    }

    /// Waits for the child to end, polling at most until `timeout`.
    public func waitForExit(timeout: Duration) async -> ProcessExitStatus? {
        let ended = await BoundedWait.until(timeout: timeout, interval: .milliseconds(20)) {
            self.pollExit() != nil
        }
        return ended ? pollExit() : nil
    }

    /// SIGTERM, up to `gracePeriod` to exit, then SIGKILL. Returns nil only if
    /// even SIGKILL did not end it within a few seconds (a process stuck in
    /// the kernel), which the caller reports.
    @discardableResult
    public func terminate(gracePeriod: Duration) async -> ProcessExitStatus? {
        if let status = pollExit() {
            return status
        }
        if gracePeriod > .zero {
            send(signal: SIGTERM)
            if let status = await waitForExit(timeout: gracePeriod) {
                return status
            }
        }
        send(signal: SIGKILL)
        return await waitForExit(timeout: .seconds(10))
    }

    /// The last `maxBytes` of what the child wrote, for error messages.
    public func outputTail(maxBytes: Int = 2000) -> String {
        var text = TextFile.tail(of: stdoutPath, maxBytes: maxBytes)
        if stderrPath != stdoutPath {
            let errors = TextFile.tail(of: stderrPath, maxBytes: maxBytes)
            if !errors.isEmpty {
                text += (text.isEmpty ? "" : "\n") + errors
            }
        }
        return text
    }
}
