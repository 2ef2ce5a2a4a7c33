// Fork: after fork() only the calling thread survives in the child; the loop
// thread, the blocking workers and any lock they held are gone, so touching a
// runtime would hang or corrupt. A pthread_atfork child handler (registered
// once, when the first runtime is created — before that there is nothing to
// protect) raises a flag and every entry point answers EDDY_EFORKED.
// The hottest exports (tcp poll_read / poll_write / poll_accept) do not test the
// flag up front: the handler also empties the child's handle-table directory, so
// their lookup cannot succeed in the child, and they test the flag only on their
// error path (`forkedOr`). One load and branch less per call. The handler also
// empties the forking thread's tcp handle cache, whose hits bypass the directory.

import CEddyABI
import Glibc
import Synchronization

/// Set in a forked child; never cleared.
let forkedChild = Atomic<Bool>(false)
private let atforkRegistered = Atomic<Bool>(false)

private func onForkChild() {
    forkedChild.store(true, ordering: .relaxed)
    ceddy_handle_pages_forget()
    ceddy_tcp_cache_reset()  // the forking thread's cache (HandleTable.lookupTcp)
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

/// The answer of an export that left the fork test to its error path: EDDY_EFORKED in a
/// forked child (where every handle lookup fails), else `code`.
@inline(never)
func forkedOr(_ code: Int32) -> Int32 {
    isForked() ? EddyCode.forked : code
}
