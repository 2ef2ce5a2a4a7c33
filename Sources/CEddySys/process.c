// Signals (forwarding handler, signalfd) and child processes (posix_spawn, pidfd).
// See Sources/Eddy/OS/ and docs/OS.md.
#define _GNU_SOURCE
#include "CEddyProcess.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

// The threads each watched signal is forwarded to (threads that block it and read a
// signalfd for it; 0: free slot). Read by the handler, so atomics, no lock.
#define CEDDY_SIG_TARGETS 8
static _Atomic int forward_tid[_NSIG][CEDDY_SIG_TARGETS];

// Handlers of each signal between their entry and their last tgkill: the last watcher's
// release waits for none before it discards what they sent (ceddy_sig_restore).
static _Atomic int forwarding[_NSIG];

// Runs when a watched signal reached a thread that does not block it (a thread the host
// started): re-sends it to every thread that blocks it for a watcher, where a signalfd
// sees it. Never the default action. Async-signal-safe: atomics, getpid, tgkill.
static void forward(int signo) {
    int saved = errno;
    // Counted before the targets are read (both seq_cst, against ceddy_sig_restore's
    // clear-then-wait): either the release sees this handler, or the handler sees no target.
    atomic_fetch_add(&forwarding[signo], 1);
    int self = (int)syscall(SYS_gettid);
    for (int i = 0; i < CEDDY_SIG_TARGETS; i++) {
        int tid = atomic_load(&forward_tid[signo][i]);
        // Never to this thread: running here means it does not block the signal (or its
        // mask is emulated, as under valgrind), and re-sending would loop forever.
        if (tid > 0 && tid != self) syscall(SYS_tgkill, (long)getpid(), (long)tid, (long)signo);
    }
    atomic_fetch_sub(&forwarding[signo], 1);
    errno = saved;
}

void ceddy_sig_set_targets(int signo, const int *tids, int count) {
    if (signo <= 0 || signo >= _NSIG) return;
    for (int i = 0; i < CEDDY_SIG_TARGETS; i++) {
        atomic_store(&forward_tid[signo][i], i < count ? tids[i] : 0);
    }
}

// A forked child (without exec) must not inherit Eddy's watch: it has no watcher, and
// its only thread may have the signal blocked by Eddy. The atfork child handler puts
// back the actions Eddy saved and unblocks what Eddy blocked in the forking thread.
static struct sigaction saved_action[_NSIG];
static _Atomic int installed[_NSIG];
static __thread uint64_t blocked_here; /* bit signo-1: Eddy blocked it in this thread */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void atfork_child(void) {
    sigset_t set;
    sigemptyset(&set);
    for (int s = 1; s < _NSIG; s++) {
        if (atomic_load(&installed[s])) {
            sigaction(s, &saved_action[s], NULL);
            atomic_store(&installed[s], 0);
            ceddy_sig_set_targets(s, NULL, 0);
        }
        if (s <= 64 && (blocked_here >> (s - 1)) & 1) sigaddset(&set, s);
    }
    blocked_here = 0;
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

static void register_atfork(void) { pthread_atfork(NULL, NULL, atfork_child); }

int ceddy_sig_install(int signo, int tid, struct sigaction *old) {
    if (signo <= 0 || signo >= _NSIG) return -EINVAL;
    pthread_once(&atfork_once, register_atfork);
    ceddy_sig_set_targets(signo, &tid, 1);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = forward;
    sigfillset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (sigaction(signo, &sa, old) != 0) {
        int e = errno;
        ceddy_sig_set_targets(signo, NULL, 0);
        return -e;
    }
    saved_action[signo] = *old;
    atomic_store(&installed[signo], 1);
    return 0;
}

// Signals whose default action is to ignore them: setting SIG_DFL discards their pending
// instances (and, unlike SIG_IGN for SIGCHLD, does not make the kernel reap children).
static int ignored_by_default(int signo) {
    return signo == SIGCHLD || signo == SIGCONT || signo == SIGURG || signo == SIGWINCH;
}

int ceddy_sig_restore(int signo, const struct sigaction *old) {
    if (signo <= 0 || signo >= _NSIG) return -EINVAL;
    // 1. No handler forwards any more: none starts to (no target), none is half-way.
    ceddy_sig_set_targets(signo, NULL, 0);
    for (int spins = 0; atomic_load(&forwarding[signo]) != 0; spins++) {
        if (spins < 1000) {
            sched_yield();
        } else {
            struct timespec pause = {0, 100000};
            nanosleep(&pause, NULL);
        }
    }
    // 2. Every instance still pending — process-directed, or on any thread (forwarded
    //    copies included) — arrived while watched: discard them all before the old action
    //    can see one. An ignored signal's pending instances are dropped by the kernel in
    //    every thread at once (POSIX: "whether or not it is blocked").
    struct sigaction drop;
    memset(&drop, 0, sizeof drop);
    drop.sa_handler = ignored_by_default(signo) ? SIG_DFL : SIG_IGN;
    sigemptyset(&drop.sa_mask);
    int r = sigaction(signo, &drop, NULL) == 0 ? 0 : -errno;
    // An emulator may hold a signal it already took from the kernel (valgrind does, for
    // the thread it will deliver to): that one is consumed here, for this thread.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signo);
    struct timespec zero = {0, 0};
    while (sigtimedwait(&set, NULL, &zero) == signo) {
    }
    // 3. The old action back; the caller unblocks afterwards.
    atomic_store(&installed[signo], 0);
    if (sigaction(signo, old, NULL) != 0) r = -errno;
    return r;
}

int ceddy_sig_block(int signo, int block) {
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, signo);
    pthread_sigmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, &old);
    int was = sigismember(&old, signo) == 1;
    if (signo <= 64) {
        uint64_t bit = (uint64_t)1 << (signo - 1);
        if (block && !was) blocked_here |= bit;
        if (!block) blocked_here &= ~bit;
    }
    return was;
}

int ceddy_signalfd_for(const int *signos, int count) {
    sigset_t set;
    sigemptyset(&set);
    for (int i = 0; i < count; i++) sigaddset(&set, signos[i]);
    int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    return fd >= 0 ? fd : -errno;
}

int ceddy_signalfd_read(int fd) {
    struct signalfd_siginfo info;
    for (;;) {
        ssize_t n = read(fd, &info, sizeof info);
        if (n == (ssize_t)sizeof info) return (int)info.ssi_signo;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return 0;
        return n < 0 ? -errno : -EIO;
    }
}

int ceddy_gettid(void) { return (int)syscall(SYS_gettid); }
int ceddy_sigrtmin(void) { return SIGRTMIN; }
int ceddy_sigrtmax(void) { return SIGRTMAX; }

int ceddy_spawn(const char *file, char *const argv[], char *const envp[], const char *cwd,
                const int stdio[3], pid_t *pid) {
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    int rc = posix_spawn_file_actions_init(&fa);
    if (rc != 0) return -rc;
    rc = posix_spawnattr_init(&attr);
    if (rc != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return -rc;
    }
    // Eddy's threads block every signal and watched signals have Eddy's handler: the
    // child starts from a clean slate (exec would keep the mask and ignored signals).
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    // dup2 onto 0/1/2 clears close-on-exec on the target only: every other descriptor
    // Eddy made stays close-on-exec, so nothing else leaks into the child.
    for (int i = 0; i < 3 && rc == 0; i++) {
        if (stdio[i] >= 0) rc = posix_spawn_file_actions_adddup2(&fa, stdio[i], i);
    }
    if (rc == 0 && cwd != NULL) rc = posix_spawn_file_actions_addchdir_np(&fa, cwd);
    if (rc == 0) {
        char *const *env = envp != NULL ? envp : environ;
        rc = strchr(file, '/') != NULL ? posix_spawn(pid, file, &fa, &attr, argv, env)
                                       : posix_spawnp(pid, file, &fa, &attr, argv, env);
    }
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    return -rc;
}

int ceddy_pidfd_open(pid_t pid) {
    long fd = syscall(SYS_pidfd_open, (long)pid, 0L);
    return fd >= 0 ? (int)fd : -errno;
}

int ceddy_pidfd_send_signal(int pidfd, int signo) {
    return syscall(SYS_pidfd_send_signal, (long)pidfd, (long)signo, 0L, 0L) == 0 ? 0 : -errno;
}

int ceddy_reap(pid_t pid, int *status) {
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid) return 1;
        if (r == 0) return 0;
        if (errno != EINTR) return -errno;
    }
}

int ceddy_exited(pid_t pid) {
    siginfo_t info;
    for (;;) {
        memset(&info, 0, sizeof info);
        if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0) return info.si_pid == pid ? 1 : 0;
        if (errno != EINTR) return -errno;
    }
}

int ceddy_decode_status(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return -WTERMSIG(status);
    return 0;
}
