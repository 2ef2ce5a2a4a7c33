import Synchronization

/// One waiter of a sync primitive: a task (poll style) or a suspended Swift task
/// (async) waiting for a permit, a value slot or a notification.
///
/// Every field is guarded by the lock of the primitive the node waits on (its
/// `WaiterList`'s owner): a waiter reads its outcome (`granted`, `linked`) under that
/// lock too. Waking goes through the stored `Waker`, so the waker may belong to a
/// task of any runtime, a continuation, or a host task; the waking thread does not
/// matter.
///
/// Cancellation safety: a waiter that gives up (a cancelled Swift task, a dropped
/// poll-style future, a freed C handle) calls its primitive's `cancel(node)`, which
/// unlinks it and hands back a permit it had already been granted.
public final class WaitNode: @unchecked Sendable {
    // @unchecked Sendable: every mutable field is touched only under the owning
    // primitive's lock (see the type's comment); `waiting` is atomic. That lock makes the
    // dynamic exclusivity checks redundant: each cost a swift_beginAccess (~175
    // instructions, ~16 per Notify round trip), hence `@exclusivity(unchecked)`.
    /// Set by the waiting side when it queues the node, cleared when it takes the
    /// outcome or withdraws: lets it skip the lock on a fast path (only it writes this).
    @usableFromInline let waiting = Atomic<Bool>(false)
    @exclusivity(unchecked) @usableFromInline var prev: WaitNode?
    @exclusivity(unchecked) @usableFromInline var next: WaitNode?
    /// In its primitive's list (waiting).
    @exclusivity(unchecked) @usableFromInline var linked = false
    /// What the waiter was handed while it waited (a permit, a notification).
    @exclusivity(unchecked) @usableFromInline var granted = false
    /// Woken by the primitive's `close`: nothing more will be granted.
    @exclusivity(unchecked) @usableFromInline var closed = false
    /// Whom to wake.
    @exclusivity(unchecked) @usableFromInline var waker: Waker?

    /// An unlinked node; give it a waker before queueing it.
    public init() {}
}

/// An intrusive FIFO list of `WaitNode`s: O(1) push at the back, pop at the front and
/// removal of any node (cancellation), no allocation (the nodes are the links).
/// Not thread-safe by itself: its owner's lock guards it.
@usableFromInline
struct WaiterList {
    @usableFromInline var head: WaitNode?
    @usableFromInline var tail: WaitNode?
    @usableFromInline var count = 0

    @usableFromInline init() {}

    @inlinable var isEmpty: Bool { head == nil }

    /// Appends `node` (must not be linked).
    @inlinable mutating func pushBack(_ node: WaitNode) {
        assert(!node.linked)
        node.linked = true
        node.prev = tail
        node.next = nil
        if let t = tail { t.next = node } else { head = node }
        tail = node
        count += 1
    }

    /// Removes and returns the oldest waiter.
    @inlinable mutating func popFront() -> WaitNode? {
        guard let n = head else { return nil }
        remove(n)
        return n
    }

    /// Unlinks `node` if it is linked; true if it was.
    @inlinable @discardableResult mutating func remove(_ node: WaitNode) -> Bool {
        guard node.linked else { return false }
        if let p = node.prev { p.next = node.next } else { head = node.next }
        if let n = node.next { n.prev = node.prev } else { tail = node.prev }
        node.prev = nil
        node.next = nil
        node.linked = false
        count -= 1
        return true
    }
}
