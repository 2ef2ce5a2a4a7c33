#define _GNU_SOURCE
#include "CEddySys.h"
#include <errno.h>
#include <stdatomic.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <string.h>
#include <sys/socket.h>

int ceddy_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int ceddy_epoll_add(int epfd, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev = {.events = events, .data.u64 = data};
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

int ceddy_epoll_mod(int epfd, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev = {.events = events, .data.u64 = data};
    return epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
}

int ceddy_epoll_del(int epfd, int fd) {
    struct epoll_event ev = {0};
    return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &ev);
}

#include "raw_syscall.h"

int ceddy_epoll_wait(int epfd, ceddy_event *out, int max, int timeout_ms) {
    // The kernel writes packed epoll_event; copy into the unpacked layout Swift reads.
    enum { CHUNK = 1024 };
    struct epoll_event buf[CHUNK];
    if (max > CHUNK) max = CHUNK;
    // A raw system call, not epoll_wait(3): the libc wrapper is a cancellation point and
    // pays for asynchronous-cancellation bookkeeping on every loop turn (see ceddy_read).
    int n = (int)ceddy_raw_syscall6(SYS_epoll_pwait, epfd, (long)buf, max, timeout_ms, 0, _NSIG / 8);
    for (int i = 0; i < n; i++) {
        out[i].events = buf[i].events;
        out[i].data = buf[i].data.u64;
    }
    return n;
}

ssize_t ceddy_read(int fd, void *buf, size_t len) { return ceddy_raw_syscall3(SYS_read, fd, (long)buf, (long)len); }

ssize_t ceddy_send(int fd, const void *buf, size_t len, int flags) {
    return ceddy_raw_syscall6(SYS_sendto, fd, (long)buf, (long)len, flags, 0, 0);
}

/* ---- UDP (issue 15) ---- */
ssize_t ceddy_recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *addr, socklen_t *alen) {
    return ceddy_raw_syscall6(SYS_recvfrom, fd, (long)buf, (long)len, flags, (long)addr, (long)alen);
}

ssize_t ceddy_sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *addr, socklen_t alen) {
    return ceddy_raw_syscall6(SYS_sendto, fd, (long)buf, (long)len, flags, (long)addr, (long)alen);
}
int ceddy_peercred(int fd, int32_t *pid, uint32_t *uid, uint32_t *gid) {
    struct ucred c;
    socklen_t len = sizeof c;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c, &len) != 0) return -1;
    *pid = c.pid;
    *uid = c.uid;
    *gid = c.gid;
    return 0;
}
ssize_t ceddy_send_fd(int sock, int fd) {
    char byte = 0;
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
    memset(&u, 0, sizeof u);
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    return sendmsg(sock, &msg, MSG_NOSIGNAL);
}

ssize_t ceddy_recv_fd(int sock, int *fd) {
    char byte;
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union { char buf[CMSG_SPACE(4 * sizeof(int))]; struct cmsghdr align; } u;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
    ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    *fd = -1;
    if (n <= 0) return n;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; i++) {
            int got;
            memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof got);
            if (*fd < 0) *fd = got; else close(got); /* one descriptor per byte: extras closed */
        }
    }
    return n;
}
/* ---- end UDP ---- */

int ceddy_eventfd(void) { return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); }

int ceddy_accept4(int fd, struct sockaddr *addr, socklen_t *len) {
    return accept4(fd, addr, len, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

_Thread_local char ceddy_thread_marker __attribute__((tls_model("initial-exec")));
uintptr_t ceddy_thread_id(void) { return (uintptr_t)&ceddy_thread_marker; }

uint64_t ceddy_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static _Thread_local void *tls_runtime __attribute__((tls_model("initial-exec")));
_Thread_local void *ceddy_tls_raw_context __attribute__((tls_model("initial-exec")));
void *ceddy_tls_runtime_get(void) { return tls_runtime; }
void ceddy_tls_runtime_set(void *value) { tls_runtime = value; }
int ceddy_errno(void) { return errno; }

/* ---- Swift task cancellation records ----
 * The concurrency runtime's entry points (stable ABI: withTaskCancellationHandler is
 * emitted into clients and calls them). Handler and call use the Swift calling
 * convention: clang's swiftcall / swift_context. */
typedef void (*ceddy_swift_cancel_fn)(void *context __attribute__((swift_context))) __attribute__((swiftcall));
extern void *swift_task_addCancellationHandler(ceddy_swift_cancel_fn handler, void *context) __attribute__((swiftcall));
extern void swift_task_removeCancellationHandler(void *record) __attribute__((swiftcall));
extern void *swift_task_getCurrent(void) __attribute__((swiftcall));

static _Atomic(void (*)(void *)) ceddy_cancel_handler;

void ceddy_set_cancel_handler(void (*handler)(void *arg))
{
    atomic_store_explicit(&ceddy_cancel_handler, handler, memory_order_release);
}

__attribute__((swiftcall)) static void ceddy_cancel_thunk(void *context __attribute__((swift_context)))
{
    void (*handler)(void *) = atomic_load_explicit(&ceddy_cancel_handler, memory_order_acquire);
    if (handler != NULL) {
        handler(context);
    }
}

void *ceddy_task_add_cancel_handler(void *arg)
{
    return swift_task_addCancellationHandler(ceddy_cancel_thunk, arg);
}

void ceddy_task_remove_cancel_handler(void *record)
{
    swift_task_removeCancellationHandler(record);
}

void *ceddy_current_task(void)
{
    return swift_task_getCurrent();
}
