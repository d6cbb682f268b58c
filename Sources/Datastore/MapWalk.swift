// The result of walking one disk's block map: data blocks, pointer blocks, problems.

/// Everything a map names: data blocks by logical number, and its pointer blocks.
struct MapWalk {
    var data: [(logical: UInt64, physical: UInt64)] = []
    /// Pointer blocks with where they hang: a root, and for second-level ones the parent's entry.
    var pointerBlocks: [(root: BlockMapPath.Root, parentEntry: Int?, block: UInt64)] = []
    var problems: [String] = []
}
