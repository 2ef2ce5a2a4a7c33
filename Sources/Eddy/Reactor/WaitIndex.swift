// WaitIndex: who waits on what in the reactor, for the task dump (diagnostics only:
// a scan of every registration and armed timer, never on a hot path).

extension IoRegistry {
    /// Calls `body(target, fd, direction)` for every reader/writer registration (loop thread).
    func forEachWaiter(_ body: (ObjectIdentifier, Int32, String) -> Void) {
        for i in 0..<slab.capacity {
            let p = slab.pointer(Int32(i))
            guard p.pointee.fd >= 0 else { continue }
            if let t = p.pointee.readWaker.target {
                body(ObjectIdentifier(t.takeUnretainedValue()), p.pointee.fd, "readable")
            }
            if let t = p.pointee.writeWaker.target {
                body(ObjectIdentifier(t.takeUnretainedValue()), p.pointee.fd, "writable")
            }
        }
    }
}

extension TimerHeap {
    /// Calls `body(target, deadline)` for every armed timer with a waker (loop thread).
    func forEachWaiter(_ body: (ObjectIdentifier, UInt64) -> Void) {
        for i in 0..<count {
            let p = entryPointer(heapNodeIndex(i))
            if let w = p.pointee.waker { body(ObjectIdentifier(w.target), p.pointee.deadline) }
        }
    }
}
