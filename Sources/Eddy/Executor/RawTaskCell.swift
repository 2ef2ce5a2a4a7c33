/// The cell of a raw task (see `RawTaskVTable`): the loop calls the vtable's `poll`
/// itself (`TaskHeader.rawPoll`, no virtual `pollTask` frame), then `finishRaw`.
final class RawTaskCell: JoinableTask<JoinSlot<Int32>>, @unchecked Sendable {
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
        // The Context whose address `poll` gets is the header's own (`contextPointer`):
        // no allocation of its own, and no stack copy per poll (its stores and a
        // stack-protector check, since the address escapes). Checked once per spawn: the
        // object layout puts `context` first.
        let cx = contextPointer
        precondition(cx.pointee.targetRef.toOpaque() == Unmanaged.passUnretained(self).toOpaque()
                     && cx.pointee.executor == executor, "TaskHeader.context is not the first stored property")
        rawData = data
        rawPoll = vtable.poll
    }

    deinit {
        // Neither finished nor dropped (cannot happen while the runtime lives: its live
        // list or inbox holds the task until then): release what the task owns anyway.
        if owned { dropHook(rawData, owner) }
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

    /// `spawnRaw` for a task nobody joins (the C ABI's `out == NULL`): no `JoinHandle`,
    /// so no reference taken and dropped at once. `worker` nil: where `spawnRaw` puts it;
    /// else checked by the caller (`0 <= worker < workers`).
    package func spawnRawDetached(_ vtable: RawTaskVTable, data: UnsafeMutableRawPointer?,
                                  owner: UnsafeMutableRawPointer?, onWorker worker: Int?) {
        if let worker {
            let target = group?.cores[worker] ?? core
            target.spawnTask(RawTaskCell(core: target, vtable: vtable, data: data, owner: owner))
            return
        }
        let current = group?.currentWorker()
        let cell = RawTaskCell(core: current ?? core, vtable: vtable, data: data, owner: owner)
        if let w = current { w.spawnTask(cell) } else if let g = group { g.submitFromOutside(cell) } else { core.spawnTask(cell) }
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
