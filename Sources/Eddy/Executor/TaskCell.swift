/// What a task cell stores its future in: `F?`, the only conformance.
///
/// The cell is generic over this storage type rather than over the future: its deinit
/// (generic code, never specialised) then destroys a field whose type is the class's own
/// generic argument, read from the class metadata, instead of asking the runtime for
/// `Optional<F>`'s metadata on every task (a hashed look-up, ~325 instructions;
/// docs/PERFORMANCE-LOG.md).
@usableFromInline
protocol FutureSlot {
    associatedtype Wrapped: Future
    init(_ future: Wrapped)
    /// Polls the future if it is still there (nil: already dropped).
    mutating func pollIfPresent(_ cx: inout Context) -> Poll<Wrapped.Output>?
    /// Drops the future.
    mutating func clear()
}

extension Optional: FutureSlot where Wrapped: Future {
    @inlinable mutating func pollIfPresent(_ cx: inout Context) -> Poll<Wrapped.Output>? {
        if self == nil { return nil }
        return self!.poll(&cx)
    }

    @inlinable mutating func clear() { self = nil }
}

/// A task cell: the future itself (in its slot `S`, i.e. `F?`) plus everything above.
@usableFromInline
final class TaskCell<S: FutureSlot>: JoinableTask<JoinSlot<S.Wrapped.Output>>, @unchecked Sendable {
    // @unchecked Sendable: `future` is touched only by the loop thread (poll, cancel), the
    // one thread that sets `running` in the state word.
    @exclusivity(unchecked) @usableFromInline var future: S

    @inlinable
    init(core: Core, future: S.Wrapped) {
        self.future = S(future)
        super.init(core: core)
        // Inlined into `Runtime.spawn` at the caller's concrete type: this closure is
        // specialized code, unlike `pollTask` (generic metadata look-ups on every poll;
        // docs/PERFORMANCE-LOG.md has the numbers).
        pollThunk = { TaskCell<S>.pollBody(unsafeDowncast($0, to: TaskCell<S>.self)) }
    }

    @inlinable
    static func pollBody(_ task: TaskCell<S>) -> Bool {
        var cx = Context(target: task, core: task.core)
        switch task.future.pollIfPresent(&cx) {
        case nil:
            return true
        case .ready(let value)?:
            task.future.clear()
            task.complete(.success(value))
            return true
        case .pending?:
            return false
        }
    }

    override func pollTask() -> Bool { TaskCell.pollBody(self) }

    override func cancelTask() {
        future.clear()
        complete(.failure(.cancelled))
    }
}
