/// The runtime's tasks not yet complete: an intrusive doubly linked list through the
/// tasks' `livePrev`/`liveNext`, owning one reference to each. It is what keeps a task
/// alive while only unretained queues and wakers-to-be point at it, and what shutdown
/// walks to drop every task. Loop thread only (or the thread shutting down).
struct LiveTasks {
    private(set) var head: Unmanaged<TaskHeader>?
    private(set) var count = 0

    /// Adds `task` (retained).
    mutating func insert(_ task: TaskHeader) {
        let node = Unmanaged.passRetained(task)
        task.isLive = true
        task.liveNext = head
        if let h = head { h._withUnsafeGuaranteedRef { $0.livePrev = node } }
        head = node
        count += 1
    }

    /// Removes `task` if it is on the list and releases the list's reference (which may
    /// free it: the caller's last use of `task`).
    mutating func remove(_ task: TaskHeader) {
        guard task.isLive else { return }
        if let p = task.livePrev { p._withUnsafeGuaranteedRef { $0.liveNext = task.liveNext } } else { head = task.liveNext }
        if let n = task.liveNext { n._withUnsafeGuaranteedRef { $0.livePrev = task.livePrev } }
        task.livePrev = nil
        task.liveNext = nil
        task.isLive = false
        count -= 1
        Unmanaged.passUnretained(task).release()
    }
}
