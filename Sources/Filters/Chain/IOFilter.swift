// The face of one filter: a stage that receives every block operation of one disk and the
// next stage's operations below it.

/// One stage of a disk's chain. For each request `handle` may
/// - pass it down (`try await next.pass(request)`), changed or not, once or several times,
/// - complete it itself (return a reply without calling `next`),
/// - fail it (throw a `BlockDeviceError`; the client sees that code and message),
/// - or defer it (await before passing it on; wrap such waits in `next.deferring` so the
///   chain's answer timeout does not count them).
///
/// A filter is built for one disk and never shared between disks. It must either handle every
/// operation in `operations` completely or leave it out: the chain fails an operation a filter
/// does not list with `.notSupported` naming the filter, never passes it around the filter.
/// A filter must not let a flush overtake a write it holds, nor hold a flush back behind writes
/// that arrived after it (FIFO where it queues).
public protocol IOFilter: AnyObject, Sendable {
    /// The kind of filter, as configs and `vdiskctl` name it (`ioControl`, `inspection`, ...).
    var name: String { get }
    var category: FilterCategory { get }
    /// What the chain does when this filter throws an error of its own or stops answering.
    var failurePolicy: FilterFailurePolicy { get }
    /// The operations this filter handles. Any other reaching it fails with `.notSupported`.
    var operations: Set<FilterOperation> { get }
    /// How long the filter may hold one request, not counting time spent below it (`next`)
    /// or in declared deferral (`next.deferring`), before the chain gives up on it.
    var answerTimeout: Duration { get }
    /// The parameters in force, as the config would write them.
    var parameters: FilterParameters { get }

    func handle(_ request: FilterRequest, next: FilterNext) async throws -> FilterReply

    /// Called once after the filter is built for its disk and before it takes I/O (when the
    /// disk opens, or when the filter is added live): a filter with state in a sidecar loads it
    /// here. A throw refuses the chain (or the live add) with that error.
    func attach() async throws

    /// Changes parameters in place, without a quiesce; throws a `FilterConfigError` (and
    /// changes nothing) for a bad value or a parameter that needs the filter to be re-added.
    func update(_ parameters: FilterParameters) throws(FilterConfigError)

    /// Called once the chain holding this filter is quiesced and this filter leaves it (removed
    /// or replaced), before the new chain takes I/O: a cache would write back here.
    func detach() async throws
}

extension IOFilter {
    public var answerTimeout: Duration { .seconds(30) }

    public func update(_ parameters: FilterParameters) throws(FilterConfigError) {
        throw FilterConfigError(.notChangeable, filter: name, parameter: nil, "the \(name) filter cannot change parameters in place; remove it and add it again")
    }

    public func attach() async throws {}

    public func detach() async throws {}
}
