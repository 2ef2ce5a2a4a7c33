/// Where the reactor keeps the waker of a reader or writer: one owned reference, held
/// as `Unmanaged` so that waking by reference (every readiness event) and re-registering
/// the same task (every pending poll) cost no retain/release. Loop thread only.
/// The owner must `clear()` it before the memory goes away (slots are reset on close).
@usableFromInline
struct WakerSlot {
    @usableFromInline var target: Unmanaged<WakeTarget>?

    @usableFromInline init() {}

    var isEmpty: Bool { target == nil }

    /// Stores `target` (retained) unless it is already the one stored.
    @inlinable @inline(__always)
    mutating func register(_ new: WakeTarget) { register(Unmanaged.passUnretained(new)) }

    /// Same, from an unretained reference (a poll's context).
    @inlinable @inline(__always)
    mutating func register(_ new: Unmanaged<WakeTarget>) {
        // One compare of the raw bits (`new` is never nil, so equal means stored).
        if UInt(bitPattern: target?.toOpaque()) == UInt(bitPattern: new.toOpaque()) { return }
        let old = target
        target = new.retain()
        old?.release()
    }

    /// Wakes the stored target (if any) without giving up the registration.
    @inline(__always)
    func wakeOnLoop() {
        target?._withUnsafeGuaranteedRef { $0.wakeOnLoop() }
    }

    /// Removes the registration, handing its reference to the caller.
    mutating func take() -> Waker? {
        guard let t = target else { return nil }
        target = nil
        return Waker(t.takeRetainedValue())
    }

    /// Drops the registration.
    mutating func clear() {
        let t = target
        target = nil
        t?.release()
    }
}

extension Context {
    /// Registers this poll's task in a reactor slot.
    @inlinable @inline(__always)
    func register(_ slot: inout WakerSlot) { slot.register(targetRef) }
}
