import CEddySys

/// One live task in `Runtime.taskDump()`, for diagnosing a stuck program.
public struct TaskSnapshot: Sendable, Equatable, CustomStringConvertible {
    /// The task's identity while it lives (its address; C: the same number).
    public var id: UInt
    /// The state word, spelled out (`TaskState`'s description: scheduled, running,
    /// complete, cancelled, reference count).
    public var state: String
    /// What the reactor would wake it for: `fd N readable` / `fd N writable` / `timer
    /// in N ms`. Empty: queued to run, or waiting for something outside the reactor
    /// (a join, a blocking job, a wake from another thread).
    public var waitsOn: [String]

    /// `task 0x…: <state>; waits on fd 7 readable, timer in 12 ms`.
    public var description: String {
        "task 0x\(String(id, radix: 16)): \(state); waits on " + (waitsOn.isEmpty ? "-" : waitsOn.joined(separator: ", "))
    }
}

extension Runtime {
    /// The tasks spawned and not finished (poll-style futures, `PollTask`s and the C
    /// front door's tasks; Swift async tasks run as jobs and are not listed), each with
    /// its state and what it waits on. Loop thread (inside a task) or, between runs, any
    /// thread that may use the runtime; elsewhere `EddyError.wrongThread`.
    public func taskDump() throws(EddyError) -> [TaskSnapshot] {
        guard core.mayTouchLoopState else { throw .wrongThread }
        return core.taskDump()
    }
}

extension Core {
    func taskDump() -> [TaskSnapshot] {
        var waits: [ObjectIdentifier: [String]] = [:]
        io.forEachWaiter { t, fd, dir in waits[t, default: []].append("fd \(fd) \(dir)") }
        let now = ceddy_now_ns()
        timers.forEachWaiter { t, deadline in
            let ms = deadline > now ? (deadline - now) / 1_000_000 : 0
            waits[t, default: []].append("timer in \(ms) ms")
        }
        var out: [TaskSnapshot] = []
        var node = live.head
        while let n = node {
            let task = n.takeUnretainedValue()
            out.append(TaskSnapshot(id: UInt(bitPattern: n.toOpaque()), state: task.state.load().debugDescription,
                                    waitsOn: waits[ObjectIdentifier(task)] ?? []))
            node = task.liveNext
        }
        return out
    }
}
