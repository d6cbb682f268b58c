// One block-to-block segment of an EXTENDED COPY (SPC-5 §6.4.6.5, descriptor type
// 0x02), with its source and destination units resolved.

/// A validated segment ready to run.
struct CopySegment: Sendable {
    var source: LogicalUnit
    var destination: LogicalUnit
    var sourceLBA: UInt64
    var destinationLBA: UInt64
    var blockCount: UInt64
}
