/// The semaphore word: `available << 2 | waiters | closed`.
///
/// - `closed` (bit 0): no permit will be granted again (a channel whose receiver is
///   gone, a closed semaphore). Set under the lock, never cleared.
/// - `waiters` (bit 1): the waiter list is not empty. Set and cleared only under the
///   lock; while it is set, permits go to the waiters under the lock, never to the
///   counter, and `tryAcquire` fails (FIFO: nobody overtakes a queued waiter). So while
///   it is set the word changes only under the lock.
/// - `available` (bits 2...): free permits; changed by CAS when `waiters` is clear.
@usableFromInline
enum PermitState {
    @usableFromInline static let closed = 1
    @usableFromInline static let waiters = 2
    @usableFromInline static let one = 4
}
