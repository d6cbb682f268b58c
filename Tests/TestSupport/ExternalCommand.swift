// Runs a short-lived helper (tgtadm, iscsi-inq, ...) to completion under a
// time limit, killing it by PID if it overstays.

public enum ExternalCommand {
    public static let defaultTimeout: Duration = .seconds(30)

    /// Runs `tool` with `arguments` and returns how it ended; a non-zero
    /// exit is a result, not an error (tests check refusals), but a missing
    /// tool or an exceeded `timeout` throws.
    public static func run(
        _ tool: ExternalTool,
        _ arguments: [String],
        timeout: Duration = defaultTimeout
    ) async throws -> CommandResult {
        try await run(executable: tool.path(), arguments, timeout: timeout)
    }

    public static func run(
        executable: String,
        _ arguments: [String],
        timeout: Duration = defaultTimeout
    ) async throws -> CommandResult {
        let directory = try ScratchDirectory(prefix: "command")
        defer { directory.remove() }
        let process = try await ChildProcess.spawn(
            executable: executable,
            arguments: arguments,
            stdoutPath: directory.file("stdout"),
            stderrPath: directory.file("stderr")
        )
        let status = await process.waitForExit(timeout: timeout)
        guard let status else {
            if Task.isCancelled {
                _ = await Task { await process.terminate(gracePeriod: .zero) }.value
                throw CancellationError()
            }
            // Ended in a task that cannot be cancelled so the child is always
            // reaped, even when the test itself is being cancelled.
            _ = await Task { await process.terminate(gracePeriod: .zero) }.value
            throw TestSupportError(
                .commandTimedOut,
                "`\(CommandResult.render(process.commandLine))` did not finish within \(timeout) and was killed; output: \(process.outputTail())"
            )
        }
        return CommandResult(
            commandLine: process.commandLine,
            status: status,
            stdout: TextFile.read(process.stdoutPath),
            stderr: TextFile.read(process.stderrPath)
        )
    }
}
