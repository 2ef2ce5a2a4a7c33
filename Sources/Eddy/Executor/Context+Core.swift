/// The Executor layer's view of a poll's `Context`: the executor's type, its runtime.
extension Context {
    @usableFromInline init(target: WakeTarget, core: Core) {
        self.init(target: target, executor: Unmanaged.passUnretained(core).toOpaque())
    }

    /// The runtime doing the poll.
    public var runtime: Runtime { coreRef._withUnsafeGuaranteedRef { $0.runtime } }

    @usableFromInline var coreRef: Unmanaged<Core> { Unmanaged<Core>.fromOpaque(executor) }

    @usableFromInline var core: Core { coreRef.takeUnretainedValue() }

    /// `true` when `core` is the runtime doing this poll (no reference counting).
    @inlinable @inline(__always)
    func isPolledBy(_ core: Core) -> Bool { executor == Unmanaged.passUnretained(core).toOpaque() }
}
