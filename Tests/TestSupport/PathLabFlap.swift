// A running flap of one path lab link (PathLab.flap): a bounded, cancellable loop of cuts and
// restores that leaves the link up when it ends.

public final class PathLabFlap: Sendable {
    public let link: Int
    private let task: Task<Int, Never>

    init(link: Int, task: Task<Int, Never>) {
        self.link = link
        self.task = task
    }

    /// Ends the flap now and waits until the link is up again; returns how many cuts it made.
    @discardableResult
    public func stop() async -> Int {
        task.cancel()
        return await task.value
    }

    /// Waits for the flap to run its duration; returns how many cuts it made.
    public func finished() async -> Int {
        await task.value
    }
}
