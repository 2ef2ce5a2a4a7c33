import CEddySys
import Glibc
import Synchronization

/// Reaps children whose `Subprocess` was dropped before they exited, so that no zombie is
/// ever left (tokio's orphan queue, with a thread instead of the next SIGCHLD: a dropped
/// child is reaped even if no runtime ever runs again).
///
/// One thread while there are orphans, every signal blocked from birth; it ends when the
/// last orphan is reaped (no descriptor or thread is kept for the life of the process). It
/// polls the orphans' pidfds with a 50 ms timeout (which also picks up new orphans and
/// those without a pidfd: the SIGCHLD fallback).
final class ChildReaper: Sendable {
    struct Orphan {
        let pid: pid_t
        let pidfd: Int32  // -1: none
    }

    static let shared = ChildReaper()
    private let state = Mutex<(orphans: [Orphan], running: Bool)>(([], false))

    /// Hands `pid` (and its pidfd, now the reaper's) over. Reaped at once if it has exited.
    func adopt(pid: pid_t, pidfd: Int32) {
        if Self.reapClosing(pid, pidfd) { return }
        state.withLock { (s: inout (orphans: [Orphan], running: Bool)) in
            s.orphans.append(Orphan(pid: pid, pidfd: pidfd))
            if !s.running { s.running = startThread() }
        }
    }

    /// Reaps `pid` if it has exited (or is not our child any more), closing its pidfd
    /// first: once the child is gone from /proc nothing of it is left open here (tests and
    /// the fuzzer count descriptors right after). False while it runs.
    private static func reapClosing(_ pid: pid_t, _ pidfd: Int32) -> Bool {
        if ceddy_exited(pid) == 0 { return false }
        if pidfd >= 0 { close(pidfd) }
        var status: Int32 = 0
        _ = ceddy_reap(pid, &status)
        return true
    }

    /// Children handed over and not reaped yet (tests).
    var pending: Int { state.withLock { $0.orphans.count } }

    /// Under the lock.
    private func startThread() -> Bool {
        var tid = pthread_t()
        var all = sigset_t(), previous = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_SETMASK, &all, &previous)  // inherited by the new thread
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        var attr = pthread_attr_t()
        pthread_attr_init(&attr)
        pthread_attr_setdetachstate(&attr, Int32(PTHREAD_CREATE_DETACHED))
        defer { pthread_attr_destroy(&attr) }
        return pthread_create(&tid, &attr, { _ in
            ChildReaper.shared.loop()
            return nil
        }, nil) == 0
    }

    /// Reaps what has exited; the pidfds to wait on next, nil when none is left (the
    /// thread then ends, under the lock, so `adopt` starts a new one).
    private func sweep() -> [pollfd]? {
        state.withLock { (s: inout (orphans: [Orphan], running: Bool)) -> [pollfd]? in
            var fds: [pollfd] = []
            s.orphans.removeAll { o in
                if Self.reapClosing(o.pid, o.pidfd) { return true }
                if o.pidfd >= 0 { fds.append(pollfd(fd: o.pidfd, events: Int16(POLLIN), revents: 0)) }
                return false
            }
            if s.orphans.isEmpty {
                s.running = false
                return nil
            }
            return fds
        }
    }

    private func loop() {
        while var fds = sweep() {
            _ = poll(&fds, nfds_t(fds.count), 50)
        }
    }
}
