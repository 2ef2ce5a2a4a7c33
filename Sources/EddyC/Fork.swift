// Fork: after fork() only the calling thread survives in the child; the loop
// thread, the blocking workers and any lock they held are gone, so touching a
// runtime would hang or corrupt. A pthread_atfork child handler (registered
// once, when the first runtime is created — before that there is nothing to
// protect) raises a flag and every entry point answers EDDY_EFORKED.

import Glibc
import Synchronization

/// Set in a forked child; never cleared.
let forkedChild = Atomic<Bool>(false)
private let atforkRegistered = Atomic<Bool>(false)

private func onForkChild() {
    forkedChild.store(true, ordering: .relaxed)
}

/// Registers the child handler once per process.
func registerForkHandlerOnce() {
    if atforkRegistered.load(ordering: .acquiring) { return }
    if atforkRegistered.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged {
        _ = pthread_atfork(nil, nil, { onForkChild() })
    }
}

/// True in a forked child: the caller returns EDDY_EFORKED.
@inline(__always)
func isForked() -> Bool {
    forkedChild.load(ordering: .relaxed)
}
