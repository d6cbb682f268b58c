// Initiator task tags as indexes into an array, with a generation so a stale tag never matches a reused slot.

/// A table of in-flight tasks keyed by Initiator Task Tag.
///
/// The low 16 bits of a tag index the slot array; the high 16 bits are the
/// slot's generation, bumped on every reuse, so a late response for a finished
/// task finds nothing instead of someone else's task. Lookup is two array reads.
public struct TaskTable<Element> {
    private var slots: [Element?] = []
    private var generations: [UInt16] = []
    private var freeSlots: [Int] = []
    public private(set) var count = 0

    /// The most tasks the tag format can tell apart.
    public static var capacityLimit: Int { 0xFFFF }

    public init() {}

    /// Stores `element` and returns its new tag, or nil when every tag is in use.
    public mutating func insert(_ element: Element) -> UInt32? {
        let index: Int
        if let free = freeSlots.popLast() {
            index = free
        } else {
            guard slots.count < Self.capacityLimit else { return nil }
            index = slots.count
            slots.append(nil)
            generations.append(0)
        }
        var generation = generations[index] &+ 1
        // 0xFFFF_FFFF is the reserved tag; never hand it out.
        if generation == 0xFFFF && index == 0xFFFF { generation = 0 }
        generations[index] = generation
        slots[index] = element
        count += 1
        return UInt32(generation) << 16 | UInt32(index)
    }

    private func slotIndex(of tag: UInt32) -> Int? {
        let index = Int(tag & 0xFFFF)
        guard index < slots.count, generations[index] == UInt16(tag >> 16), slots[index] != nil else { return nil }
        return index
    }

    public func contains(_ tag: UInt32) -> Bool { slotIndex(of: tag) != nil }

    /// The task with this tag; nil for unknown or stale tags. Setting nil is not allowed: use `remove`.
    public subscript(tag: UInt32) -> Element? {
        get { slotIndex(of: tag).flatMap { slots[$0] } }
    }

    /// Changes the task with this tag in place; returns nil (and does nothing) for unknown tags.
    @discardableResult
    public mutating func modify<Result>(_ tag: UInt32, _ body: (inout Element) throws -> Result) rethrows -> Result? {
        guard let index = slotIndex(of: tag) else { return nil }
        var element = slots[index].take()!
        defer { slots[index] = element }
        return try body(&element)
    }

    @discardableResult
    public mutating func remove(_ tag: UInt32) -> Element? {
        guard let index = slotIndex(of: tag) else { return nil }
        let element = slots[index].take()
        freeSlots.append(index)
        count -= 1
        return element
    }

    /// Every live tag, in slot order.
    public var tags: [UInt32] {
        slots.indices.compactMap { index in
            slots[index] == nil ? nil : UInt32(generations[index]) << 16 | UInt32(index)
        }
    }

    /// Removes and returns every task.
    public mutating func removeAll() -> [(tag: UInt32, element: Element)] {
        var removed: [(UInt32, Element)] = []
        for tag in tags {
            if let element = remove(tag) { removed.append((tag, element)) }
        }
        return removed
    }
}

extension TaskTable: Sendable where Element: Sendable {}
