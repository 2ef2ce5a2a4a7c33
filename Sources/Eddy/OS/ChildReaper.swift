import CEddySys
import Glibc
import Synchronization

/// Reaps children whose `Subprocess` was dropped before they exited, so that no zombie is
/// ever left (tokio's orphan queue, with a thread instead of the next SIGCHLD: a dropped
/// child is reaped even if no runtime ever runs again).
///
/// One thread, started with the first orphan, every signal blocked from birth. It polls
/// the orphans' pidfds (and an eventfd that announces new orphans); an orphan without a
/// pidfd (the SIGCHLD fallback) is checked every 50 ms. It stays (parked in poll) for the
/// life of the process once started.
final class ChildReaper: Sendable {
    struct Orphan {
        let pid: pid_t
        let pidfd: Int32  // -1: none
    }

    static let shared = ChildReaper()
    private let state = Mutex<(orphans: [Orphan], started: Bool, wake: Int32)>(([], false, -1))

    /// Hands `pid` (and its pidfd, now the reaper's) over. Reaped at once if it has exited.
    func adopt(pid: pid_t, pidfd: Int32) {
        var status: Int32 = 0
        if ceddy_reap(pid, &status) != 0 {  // exited (1) or not our child any more (< 0)
            if pidfd >= 0 { close(pidfd) }
            return
        }
        let wake: Int32 = state.withLock { (s: inout (orphans: [Orphan], started: Bool, wake: Int32)) -> Int32 in
            s.orphans.append(Orphan(pid: pid, pidfd: pidfd))
            if !s.started {
                s.wake = ceddy_eventfd()
                s.started = startThread()
            }
            return s.wake
        }
        if wake >= 0 {
            var one: UInt64 = 1
            _ = write(wake, &one, 8)
        }
    }

    /// Children handed over and not reaped yet (tests).
    var pending: Int { state.withLock { $0.orphans.count } }

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

    /// Reaps what has exited; returns what to poll next (and whether to time out).
    private func sweep() -> (fds: [pollfd], timeout: Int32) {
        state.withLock { (s: inout (orphans: [Orphan], started: Bool, wake: Int32)) -> ([pollfd], Int32) in
            var fds = [pollfd(fd: s.wake, events: Int16(POLLIN), revents: 0)]
            var timeout: Int32 = -1
            s.orphans.removeAll { o in
                var status: Int32 = 0
                if ceddy_reap(o.pid, &status) != 0 {
                    if o.pidfd >= 0 { close(o.pidfd) }
                    return true
                }
                if o.pidfd >= 0 {
                    fds.append(pollfd(fd: o.pidfd, events: Int16(POLLIN), revents: 0))
                } else {
                    timeout = 50
                }
                return false
            }
            return (fds, timeout)
        }
    }

    private func loop() {
        while true {
            var (fds, timeout) = sweep()
            _ = poll(&fds, nfds_t(fds.count), timeout)
            if fds[0].revents != 0 {
                var v: UInt64 = 0
                _ = read(fds[0].fd, &v, 8)
            }
        }
    }
}
