import Glibc

/// A pthread mutex around a value. Used for the runtime's cross-thread inbox instead of
/// Synchronization's `Mutex`, whose futex-based implementation ThreadSanitizer cannot see
/// (it then reports every access under the lock as a race). Cold path only.
@usableFromInline
package final class PosixMutex<Value>: @unchecked Sendable {
    // @unchecked Sendable: `value` is only reached inside `withLock`, under the mutex.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    // Unchecked: the mutex already excludes overlapping accesses; the dynamic check cost
    // a swift_beginAccess (~175 instructions) per `withLock` (docs/PERFORMANCE-LOG.md).
    @exclusivity(unchecked) private var value: Value

    package init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @inline(__always)
    package func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
