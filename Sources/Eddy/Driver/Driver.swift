// The driver: the one place the executor reaches the operating system through (mio's
// `Selector`, tokio's `Driver`). It owns the kernel's readiness facility, the wake-up
// descriptor another thread uses to unpark the loop, the parked flag of that protocol,
// the I/O registrations and the timers, and `turn` runs one round of it: wait (bounded
// by the next timer), dispatch readiness to the registered wakers, fire due timers.
//
// A backend is one file defining a final class with the members below (see
// `EpollDriver`); `PlatformDriver` names the one this build uses. The executor holds the
// concrete class, not an existential: a turn is on the hot path and must not cost a
// witness-table call. A second backend (io_uring next, kqueue on macOS, see
// docs/ARCHITECTURE.md) is a new file plus its line in the `#if` below.
//
// The members every backend provides:
//
//     init(eventBatch: Int, returnOnSignal: Bool, sys: Sys) throws(EddyError)
//     var io: IoRegistry { get }              // registrations (loop thread)
//     var timers: TimerHeap { get }           // timers (loop thread)
//     func turn(mayBlock: Bool, workArrived: () -> Bool) throws(EddyError)
//     func takeParked() -> Bool               // any thread: was the loop parked? (clears)
//     func unpark()                           // any thread: wake a parked turn
//     func close()                            // shutdown: release the kernel objects

#if os(Linux)
/// The backend of this build.
@usableFromInline typealias PlatformDriver = EpollDriver
#endif
