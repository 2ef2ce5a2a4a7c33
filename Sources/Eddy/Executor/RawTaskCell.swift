/// The cell of a raw task (see `RawTaskVTable`): the loop calls the vtable's `poll`
/// itself (`TaskHeader.rawPoll`, no virtual `pollTask` frame), then `finishRaw`.
final class RawTaskCell: JoinableTask<Int32>, @unchecked Sendable {
    // @unchecked Sendable: the hooks and pointers are immutable or touched only by the loop
    // thread (poll, finish, drop); the data's owner (the C ABI) handed it to the runtime.
    private let owner: UnsafeMutableRawPointer?
    private let finishHook: RawTaskVTable.Finish
    private let dropHook: RawTaskVTable.Drop
    /// `data` and `owner` not yet handed to `finish` or `drop`.
    @exclusivity(unchecked) private var owned = true

    init(core: Core, vtable: RawTaskVTable, data: UnsafeMutableRawPointer?, owner: UnsafeMutableRawPointer?) {
        self.owner = owner
        finishHook = vtable.finish
        dropHook = vtable.drop
        super.init(core: core)
        // The Context whose address `poll` gets is built once, in memory of its own (a
        // stack copy per poll would cost its stores and a stack-protector check, since
        // the address escapes).
        let p = UnsafeMutablePointer<Context>.allocate(capacity: 1)
        p.initialize(to: Context(target: self, core: core))
        rawContext = p
        rawData = data
        rawPoll = vtable.poll
    }

    deinit {
        // Neither finished nor dropped (cannot happen while the runtime lives: its live
        // list or inbox holds the task until then): release what the task owns anyway.
        if owned { dropHook(rawData, owner) }
        rawContext?.deallocate()
    }

    override func finishRaw(_ value: Int32) -> Bool {
        rawPoll = nil  // never called again, whatever happens to the state word
        owned = false
        complete(.success(finishHook(rawData, owner, value)))
        return true
    }

    override func cancelTask() {
        rawPoll = nil
        if owned {
            owned = false
            dropHook(rawData, owner)
        }
        complete(.failure(.cancelled))
    }
}

extension Runtime {
    /// Spawns a raw task: from here on the runtime owns `data` and `owner` and hands them
    /// to exactly one of `vtable.finish` or `vtable.drop`. Any thread. The C ABI's tasks.
    @discardableResult
    package func spawnRaw(_ vtable: RawTaskVTable, data: UnsafeMutableRawPointer?,
                          owner: UnsafeMutableRawPointer?) -> JoinHandle<Int32> {
        let worker = group?.currentWorker()
        let cell = RawTaskCell(core: worker ?? core, vtable: vtable, data: data, owner: owner)
        if let w = worker { w.spawnTask(cell) } else if let g = group { g.submitFromOutside(cell) } else { core.spawnTask(cell) }
        return JoinHandle(cell)
    }

    /// `spawnRaw` on worker `worker` (the caller checked `0 <= worker < workers`).
    package func spawnRaw(_ vtable: RawTaskVTable, data: UnsafeMutableRawPointer?,
                          owner: UnsafeMutableRawPointer?, onWorker worker: Int) -> JoinHandle<Int32> {
        let target = group?.cores[worker] ?? core
        let cell = RawTaskCell(core: target, vtable: vtable, data: data, owner: owner)
        target.spawnTask(cell)
        return JoinHandle(cell)
    }
}
