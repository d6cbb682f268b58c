// A filter that breaks on purpose, to prove a broken filter harms only its own disk (as
// nbdkit's error filter does for its stack). Never useful in production.

import Synchronization

/// Parameters: `category` (which slot it takes, default `cache`, the one nearest the disk),
/// `mode` — `throw` (an error of its own, not a `BlockDeviceError`), `hang` (never answers) or
/// `pass` (passes everything: broken only when told) — `operations` as a comma-separated list
/// of operations it breaks (default every one), and `policy` (`fail-io` or `bypass`).
/// `timeout_ms` is its answer timeout (default 2000). `fail_attach = true` makes `attach()` throw,
/// as a filter whose persistent state is unusable would.
public final class FaultInjectionFilter: IOFilter {
    public enum Mode: String, Sendable, CaseIterable {
        case `throw`, hang, pass
    }

    public let name = "faultInjection"
    public let category: FilterCategory
    public let failurePolicy: FilterFailurePolicy
    public let operations = Set(FilterOperation.allCases)
    public let answerTimeout: Duration
    public let mode: Mode
    public let broken: Set<FilterOperation>
    public let parameters: FilterParameters
    public let failsAttach: Bool
    private let hung = Mutex<[CheckedContinuation<Void, Never>]>([])

    public init(parameters: FilterParameters) throws(FilterConfigError) {
        var reader = FilterParameterReader(parameters, filter: "faultInjection")
        let category = reader.string("category", choices: FilterCategory.allCases.map(\.rawValue)).flatMap(FilterCategory.init(rawValue:)) ?? .cache
        let mode = reader.string("mode", choices: Mode.allCases.map(\.rawValue)).flatMap(Mode.init(rawValue:)) ?? .throw
        let policy = reader.string("policy", choices: ["fail-io", "bypass"]).flatMap(FilterFailurePolicy.init(rawValue:)) ?? .failIO
        let timeout = reader.integer("timeout_ms", range: 10...600_000) ?? 2000
        let failsAttach = reader.bool("fail_attach") ?? false
        var broken = Set(FilterOperation.allCases)
        if let list = reader.text("operations") {
            broken = []
            for name in list.split(separator: ",").map({ $0.trimmingCharacters() }) {
                guard let operation = FilterOperation(rawValue: name) else {
                    reader.fail("operations", "\"\(name)\" is not an operation (\(FilterOperation.allCases.map(\.rawValue).joined(separator: ", ")))")
                    continue
                }
                broken.insert(operation)
            }
        }
        reader.finish()
        if let first = reader.errors.first { throw first }
        self.category = category
        self.mode = mode
        self.failurePolicy = policy
        self.answerTimeout = .milliseconds(timeout)
        self.broken = broken
        self.parameters = parameters
        self.failsAttach = failsAttach
    }

    public func attach() async throws {
        if failsAttach { throw InjectedAttachFault() }
    }

    public func detach() async throws {
        for continuation in hung.withLock({ hung in defer { hung = [] }; return hung }) { continuation.resume() }
    }

    public func handle(_ request: FilterRequest, next: FilterNext) async throws -> FilterReply {
        guard broken.contains(request.operation) else { return try await next.pass(request) }
        switch mode {
        case .pass:
            return try await next.pass(request)
        case .throw:
            throw InjectedFault(operation: request.operation)
        case .hang:
            // Ignores cancellation too: the chain's watchdog is what must end the client's wait.
            // Held requests are let go only when the filter is detached (and then find the
            // chain gave up on them).
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in hung.withLock { $0.append(continuation) } }
            return try await next.pass(request)
        }
    }
}

/// The error a `throw`-mode fault filter raises: deliberately not a `BlockDeviceError`.
public struct InjectedFault: Error, CustomStringConvertible {
    public var operation: FilterOperation
    public var description: String { "injected fault on \(operation)" }
}

/// The error a `fail_attach` fault filter's `attach()` raises.
public struct InjectedAttachFault: Error, CustomStringConvertible {
    public var description: String { "injected fault at attach" }
}

extension Substring {
    fileprivate func trimmingCharacters() -> String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
