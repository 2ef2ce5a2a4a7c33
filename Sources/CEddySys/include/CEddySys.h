// CEddySys: the few kernel interfaces Glibc does not import cleanly into Swift.
// epoll_event is packed on x86_64, eventfd/accept4 need _GNU_SOURCE, and
// pthread_self() is __attribute__((const)) (Swift may cache it across awaits).
#ifndef CEDDYSYS_H
#define CEDDYSYS_H

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include "CEddyUring.h"
#include "CEddyProcess.h"  // signals and child processes (issue 16)

/// One readiness event as Swift sees it (unpacked copy of struct epoll_event).
typedef struct {
    uint32_t events;
    uint64_t data;
} ceddy_event;

static const uint32_t CEDDY_EPOLLIN = 0x001;
static const uint32_t CEDDY_EPOLLPRI = 0x002;
static const uint32_t CEDDY_EPOLLOUT = 0x004;
static const uint32_t CEDDY_EPOLLERR = 0x008;
static const uint32_t CEDDY_EPOLLHUP = 0x010;
static const uint32_t CEDDY_EPOLLRDHUP = 0x2000;
static const uint32_t CEDDY_EPOLLET = 1u << 31;

static const int CEDDY_SOCK_NONBLOCK = 04000;
static const int CEDDY_SOCK_CLOEXEC = 02000000;

/// epoll_create1(EPOLL_CLOEXEC).
int ceddy_epoll_create(void);
/// epoll_ctl ADD/MOD/DEL with a plain (events, data) pair.
int ceddy_epoll_add(int epfd, int fd, uint32_t events, uint64_t data);
int ceddy_epoll_mod(int epfd, int fd, uint32_t events, uint64_t data);
int ceddy_epoll_del(int epfd, int fd);
/// epoll_wait into a scratch buffer of packed events, unpacked into `out`.
int ceddy_epoll_wait(int epfd, ceddy_event *out, int max, int timeout_ms);
/// read(2) / send(2) issued as raw system calls: same semantics (-1 and errno), but not
/// cancellation points, so the loop skips libc's per-call asynchronous-cancellation
/// bookkeeping (a runtime thread is never pthread_cancel'ed: that would unwind through
/// Swift frames, which is undefined anyway).
ssize_t ceddy_read(int fd, void *buf, size_t len);
ssize_t ceddy_send(int fd, const void *buf, size_t len, int flags);
/* ---- UDP (issue 15) ---- */
/// recvfrom(2) / sendto(2) as raw system calls (see ceddy_read: not cancellation points).
/// recvfrom passes `flags` through (Eddy passes MSG_TRUNC: the result is the datagram's
/// real length even when it is longer than `len`).
ssize_t ceddy_recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *addr, socklen_t *alen);
ssize_t ceddy_sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *addr, socklen_t alen);
/// getsockopt(SO_PEERCRED) of a Unix-domain socket (struct ucred needs _GNU_SOURCE,
/// which Swift's Glibc module does not see): 0, or -1 and errno.
int ceddy_peercred(int fd, int32_t *pid, uint32_t *uid, uint32_t *gid);
/// SCM_RIGHTS (CMSG_* are macros Swift cannot call): sends one byte carrying `fd`
/// (MSG_NOSIGNAL): 1, or -1 and errno.
ssize_t ceddy_send_fd(int sock, int fd);
/// Receives one byte and the descriptor it carries (MSG_CMSG_CLOEXEC) into *fd (-1 when
/// the byte came without one; any extra descriptors are closed): 1, 0 at end of stream,
/// or -1 and errno.
ssize_t ceddy_recv_fd(int sock, int *fd);
/* ---- end UDP ---- */
/// eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK).
int ceddy_eventfd(void);
/// accept4(..., SOCK_NONBLOCK | SOCK_CLOEXEC).
int ceddy_accept4(int fd, struct sockaddr *addr, socklen_t *len);
/// An opaque (non-const) thread identity, safe to call across awaits: the address of
/// a thread-local variable (one instruction, no call into libc).
uintptr_t ceddy_thread_id(void);
/// The same identity, inlined: for synchronous callers only (the C ABI's hot path).
/// Async Swift code must call the out-of-line version, whose result the compiler
/// cannot carry across a suspension point.
extern _Thread_local char ceddy_thread_marker __attribute__((tls_model("initial-exec")));
static inline uintptr_t ceddy_thread_id_inline(void) { return (uintptr_t)&ceddy_thread_marker; }
/// Monotonic clock in nanoseconds.
uint64_t ceddy_now_ns(void);
/// Per-thread slot for the runtime currently driving this thread.
void *ceddy_tls_runtime_get(void);
void ceddy_tls_runtime_set(void *value);
/// Per-thread slot for the Context of the raw task being polled on this thread (set by
/// the executor around every raw poll, saved and restored so nested loops stay correct;
/// nil outside one). Lets a raw task's supplier tell a live context pointer from a stale
/// or forged one by comparing bits, without dereferencing it — like tokio's thread-local
/// current task id. Inline: read on every call that validates a context.
extern _Thread_local void *ceddy_tls_raw_context __attribute__((tls_model("initial-exec")));
static inline void *ceddy_raw_context_get(void) { return ceddy_tls_raw_context; }
static inline void ceddy_raw_context_set(void *value) { ceddy_tls_raw_context = value; }
/// errno of the calling thread (Swift's `errno` is fine too; this is for C callers).
int ceddy_errno(void);

/// Swift task cancellation records: the two runtime calls `withTaskCancellationHandler`
/// makes, reachable from Swift without its generic frame and executor hops.
/// `ceddy_task_add_cancel_handler(arg)` adds a record to the current task whose handler
/// calls the function set with `ceddy_set_cancel_handler` with `arg` (on the cancelling
/// thread; at once if the task is already cancelled); the result goes to
/// `ceddy_task_remove_cancel_handler` on the same task.
void ceddy_set_cancel_handler(void (*handler)(void *arg));
void *ceddy_task_add_cancel_handler(void *arg);
void ceddy_task_remove_cancel_handler(void *record);
/// The Swift task running on this thread (its address, an identity), or NULL.
void *ceddy_current_task(void);

#endif
