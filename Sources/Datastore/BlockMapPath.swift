// Where the pointer to a logical file block lives: a descriptor root, then 0–2 pointer blocks.

/// The route from a descriptor to one logical block's pointer (docs/FORMAT.md, "Block map").
struct BlockMapPath: Sendable, Hashable {
    enum Root: Sendable, Hashable {
        case direct(Int)
        case single(Int)
        case double(Int)
    }

    var root: Root
    /// Entry numbers inside successive pointer blocks, outermost first.
    var entries: [Int]

    /// Nil when `block` is past what the map can address.
    init?(block: UInt64, pointersPerBlock: Int) {
        let p = UInt64(pointersPerBlock)
        var n = block
        if n < UInt64(VolumeLayout.directPointers) {
            root = .direct(Int(n)); entries = []; return
        }
        n -= UInt64(VolumeLayout.directPointers)
        if n < UInt64(VolumeLayout.singleIndirectPointers) * p {
            root = .single(Int(n / p)); entries = [Int(n % p)]; return
        }
        n -= UInt64(VolumeLayout.singleIndirectPointers) * p
        guard n / (p * p) < UInt64(VolumeLayout.doubleIndirectPointers) else { return nil }
        root = .double(Int(n / (p * p)))
        entries = [Int((n % (p * p)) / p), Int(n % p)]
    }

    static func pageOffset(pointerBlock: UInt64, entry: Int, fileBlockSize: Int) -> UInt64 {
        pointerBlock * UInt64(fileBlockSize) + UInt64(entry / VolumeLayout.pointersPerPage * VolumeLayout.unitSize)
    }
}

extension DiskDescriptor {
    func rootPointer(_ root: BlockMapPath.Root) -> UInt64 {
        switch root {
        case .direct(let index): direct[index]
        case .single(let index): single[index]
        case .double(let index): double[index]
        }
    }

    mutating func setRootPointer(_ root: BlockMapPath.Root, _ value: UInt64) {
        switch root {
        case .direct(let index): direct[index] = value
        case .single(let index): single[index] = value
        case .double(let index): double[index] = value
        }
    }
}
