// Signals and child processes (issue 16): what Glibc does not import cleanly or what
// must be async-signal-safe C (the forwarding handler).
#ifndef CEDDY_PROCESS_H
#define CEDDY_PROCESS_H

#include <signal.h>
#include <sys/types.h>

/// Installs the forwarding handler for `signo` (SA_RESTART, every signal masked while it
/// runs), saving the previous action in `old`, and makes `tid` its one target. 0 or -errno.
int ceddy_sig_install(int signo, int tid, struct sigaction *old);
/// The threads (at most 8; the rest are ignored) the handler of `signo` forwards to.
void ceddy_sig_set_targets(int signo, const int *tids, int count);
/// The last watcher of `signo` is gone: stops forwarding (waiting for a handler that is
/// half-way), discards every pending instance of `signo` (process-directed and on every
/// thread: they arrived while watched), then restores `old`. 0 or -errno.
int ceddy_sig_restore(int signo, const struct sigaction *old);
/// Blocks (`block` != 0) or unblocks `signo` in the calling thread. Returns 1 if it was
/// blocked before the call.
int ceddy_sig_block(int signo, int block);
/// A signalfd (non-blocking, close-on-exec) for the signals of `signos`. fd or -errno.
int ceddy_signalfd_for(const int *signos, int count);
/// Reads one siginfo from a signalfd: the signal number, 0 when none (EAGAIN), or -errno.
int ceddy_signalfd_read(int fd);
/// The calling thread's kernel id.
int ceddy_gettid(void);
/// SIGRTMIN / SIGRTMAX (glibc functions: not constants).
int ceddy_sigrtmin(void);
int ceddy_sigrtmax(void);

/// posix_spawn(p) of `file` (searched in PATH unless it holds a '/') with `argv`, `envp`
/// (NULL: this process's environment), `cwd` (NULL: this one's). `stdio[i]` is -1 to
/// inherit descriptor i, or a descriptor to dup onto i. The child starts with an empty
/// signal mask and default dispositions. 0 and `*pid`, or -errno (ENOENT, EACCES ...).
int ceddy_spawn(const char *file, char *const argv[], char *const envp[], const char *cwd,
                const int stdio[3], pid_t *pid);
/// pidfd_open(2): fd (close-on-exec) or -errno (ENOSYS before Linux 5.3).
int ceddy_pidfd_open(pid_t pid);
/// pidfd_send_signal(2): 0 or -errno.
int ceddy_pidfd_send_signal(int pidfd, int signo);
/// waitpid(pid, WNOHANG): 1 and `*status` when reaped, 0 while it runs, -errno.
int ceddy_reap(pid_t pid, int *status);
/// Whether `pid` has exited, without reaping it (waitid WNOWAIT): 1, 0 while it runs, or
/// -errno (ECHILD: not a child of this process any more).
int ceddy_exited(pid_t pid);
/// WIFEXITED/WEXITSTATUS/WIFSIGNALED/WTERMSIG of a wait status: exit code (>= 0) or
/// -(signal number).
int ceddy_decode_status(int status);

#endif
