// The io_uring rings through raw system calls (see CEddyUring.h).
#define _GNU_SOURCE
#include "CEddyUring.h"
#include "raw_syscall.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/io_uring.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

_Static_assert(sizeof(ceddy_cqe) == sizeof(struct io_uring_cqe), "ceddy_cqe is io_uring_cqe");

static long sys_setup(unsigned entries, struct io_uring_params *p) {
    long r = syscall(SYS_io_uring_setup, entries, p);
    return r < 0 ? -errno : r;
}

int ceddy_uring_setup(ceddy_uring *r, uint32_t entries, uint32_t cq_entries, int fail_errno) {
    memset(r, 0, sizeof *r);
    r->fd = -1;
    if (fail_errno > 0) return -fail_errno;
    struct io_uring_params p;
    // SUBMIT_ALL (5.18): a request that fails early does not stop the ones after it.
    // COOP_TASKRUN (5.19): a poll's wake-up work is queued to the submitting thread
    // without an inter-processor interrupt when that thread is running (it runs the work
    // at its next system call: the loop's own reads and sends); a sleeping submitter is
    // still woken. Not DEFER_TASKRUN/SINGLE_ISSUER: the loop may move between threads.
    uint32_t flags[] = {IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN,
                        IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL, IORING_SETUP_CQSIZE};
    long fd = -EINVAL;
    for (unsigned i = 0; i < sizeof flags / sizeof flags[0] && fd == -EINVAL; i++) {
        memset(&p, 0, sizeof p);
        p.flags = flags[i];
        p.cq_entries = cq_entries;
        fd = sys_setup(entries, &p);
    }
    if (fd < 0) return (int)fd;
    // EXT_ARG (5.11): the wait's timeout; NODROP: completions are never lost; RSRC_TAGS
    // came with 5.13, the first kernel with multishot poll (there is no feature bit for it).
    uint32_t need = IORING_FEAT_SINGLE_MMAP | IORING_FEAT_NODROP | IORING_FEAT_EXT_ARG | IORING_FEAT_RSRC_TAGS;
    if ((p.features & need) != need) {
        close((int)fd);
        return -EOPNOTSUPP;
    }
    r->fd = (int)fd;
    r->features = p.features;
    size_t sq_size = p.sq_off.array + p.sq_entries * sizeof(uint32_t);
    size_t cq_size = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
    r->ring_size = sq_size > cq_size ? sq_size : cq_size;
    void *ring = mmap(NULL, r->ring_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQ_RING);
    if (ring == MAP_FAILED) {
        int e = errno;
        close(r->fd);
        r->fd = -1;
        return -e;
    }
    r->sqes_size = p.sq_entries * sizeof(struct io_uring_sqe);
    void *sqes = mmap(NULL, r->sqes_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
    if (sqes == MAP_FAILED) {
        int e = errno;
        munmap(ring, r->ring_size);
        close(r->fd);
        r->fd = -1;
        return -e;
    }
    char *b = ring;
    r->ring_ptr = ring;
    r->sqes = sqes;
    r->sq_khead = (uint32_t *)(b + p.sq_off.head);
    r->sq_ktail = (uint32_t *)(b + p.sq_off.tail);
    r->sq_kflags = (uint32_t *)(b + p.sq_off.flags);
    r->sq_array = (uint32_t *)(b + p.sq_off.array);
    r->sq_mask = *(uint32_t *)(b + p.sq_off.ring_mask);
    r->sq_entries = p.sq_entries;
    r->cq_khead = (uint32_t *)(b + p.cq_off.head);
    r->cq_ktail = (uint32_t *)(b + p.cq_off.tail);
    r->cq_mask = *(uint32_t *)(b + p.cq_off.ring_mask);
    r->cq_entries = p.cq_entries;
    r->cqes = (ceddy_cqe *)(b + p.cq_off.cqes);
    r->sq_tail = *r->sq_ktail;
    // Slot i of the indirection array always names SQE i: the queue is used in order.
    for (uint32_t i = 0; i < p.sq_entries; i++) r->sq_array[i] = i;
    return 0;
}

void ceddy_uring_exit(ceddy_uring *r) {
    if (r->fd < 0) return;
    munmap(r->sqes, r->sqes_size);
    munmap(r->ring_ptr, r->ring_size);
    close(r->fd);
    r->fd = -1;
}

/// The next free submission entry, zeroed; NULL when the ring is full.
static struct io_uring_sqe *next_sqe(ceddy_uring *r) {
    if (r->sq_tail - __atomic_load_n(r->sq_khead, __ATOMIC_ACQUIRE) >= r->sq_entries) return NULL;
    struct io_uring_sqe *s = (struct io_uring_sqe *)r->sqes + (r->sq_tail & r->sq_mask);
    memset(s, 0, sizeof *s);
    return s;
}

int ceddy_uring_poll_add(ceddy_uring *r, int fd, uint32_t mask, uint64_t user_data, int multishot) {
    struct io_uring_sqe *s = next_sqe(r);
    if (s == NULL) return -EBUSY;
    s->opcode = IORING_OP_POLL_ADD;
    s->fd = fd;
    s->poll32_events = mask;  // little-endian hosts: the 32-bit field as is
    s->len = multishot ? IORING_POLL_ADD_MULTI : 0;
    s->user_data = user_data;
    r->sq_tail++;
    return 0;
}

int ceddy_uring_poll_remove(ceddy_uring *r, uint64_t target, uint64_t user_data) {
    struct io_uring_sqe *s = next_sqe(r);
    if (s == NULL) return -EBUSY;
    // ASYNC_CANCEL, not POLL_REMOVE: POLL_REMOVE fails with EALREADY when the poll's
    // wake-up work is pending (a socket ready the moment its poll went in, in the same
    // submission), and the request would live on, holding its file. A cancel marks the
    // request and lets that work end it.
    s->opcode = IORING_OP_ASYNC_CANCEL;
    s->fd = -1;
    s->addr = target;
    s->user_data = user_data;
    r->sq_tail++;
    return 0;
}

int ceddy_uring_enter(ceddy_uring *r, uint32_t wait_nr, int64_t timeout_ns) {
    // Publish the queued entries (release: their contents before the tail).
    __atomic_store_n(r->sq_ktail, r->sq_tail, __ATOMIC_RELEASE);
    uint32_t submit = r->sq_tail - __atomic_load_n(r->sq_khead, __ATOMIC_ACQUIRE);
    unsigned flags = IORING_ENTER_GETEVENTS;
    struct __kernel_timespec ts;
    struct io_uring_getevents_arg arg;
    void *argp = NULL;
    size_t argsz = 0;
    if (wait_nr > 0 && timeout_ns >= 0) {
        ts.tv_sec = timeout_ns / 1000000000;
        ts.tv_nsec = timeout_ns % 1000000000;
        memset(&arg, 0, sizeof arg);
        arg.ts = (uint64_t)(uintptr_t)&ts;
        flags |= IORING_ENTER_EXT_ARG;
        argp = &arg;
        argsz = sizeof arg;
    }
    r->enters++;
    // Inline (see raw_syscall.h): this is the loop's one system call per turn.
    long n = ceddy_raw_syscall6(SYS_io_uring_enter, r->fd, submit, wait_nr, flags, (long)argp, (long)argsz);
    return n < 0 ? -errno : (int)n;
}

/* ---- io_uring completion reads (issue 18, phase 2) ---- */

/// Linux >= 6.0 (multishot recv): there is no feature bit for it.
static int kernel_has_multishot_recv(void) {
    struct utsname u;
    if (uname(&u) != 0) return 0;
    unsigned major = 0, minor = 0;
    if (sscanf(u.release, "%u.%u", &major, &minor) != 2) return 0;
    return major > 6 || (major == 6 && minor >= 0);
}

int ceddy_rxpool_setup(ceddy_uring *r, ceddy_rxpool *p, uint32_t count, uint32_t size, uint16_t group) {
    memset(p, 0, sizeof *p);
    if (count == 0 || count > 32768 || (count & (count - 1)) != 0 || size == 0) return -EINVAL;
    if (!kernel_has_multishot_recv()) return -EOPNOTSUPP;
    p->ring_bytes = (uint64_t)count * 16u;
    p->base_bytes = (uint64_t)count * size;
    p->ring = mmap(NULL, p->ring_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p->ring == MAP_FAILED) return -ENOMEM;
    p->base = mmap(NULL, p->base_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    p->len = calloc(count, sizeof *p->len);
    p->next = calloc(count, sizeof *p->next);
    if (p->base == MAP_FAILED || p->len == NULL || p->next == NULL) {
        if (p->base == MAP_FAILED) p->base = NULL;
        ceddy_rxpool_free(p);
        return -ENOMEM;
    }
    struct io_uring_buf_reg reg;
    memset(&reg, 0, sizeof reg);
    reg.ring_addr = (uint64_t)(uintptr_t)p->ring;
    reg.ring_entries = count;
    reg.bgid = group;
    long rc = syscall(SYS_io_uring_register, r->fd, IORING_REGISTER_PBUF_RING, &reg, 1);
    if (rc < 0) {
        int e = errno;
        ceddy_rxpool_free(p);
        return -e;
    }
    p->count = count;
    p->size = size;
    p->mask = count - 1;
    p->group = group;
    for (uint32_t i = 0; i < count; i++) ceddy_rxpool_give(p, (uint16_t)i);
    return 0;
}

void ceddy_rxpool_free(ceddy_rxpool *p) {
    if (p->ring != NULL && p->ring != MAP_FAILED) munmap(p->ring, p->ring_bytes);
    if (p->base != NULL) munmap(p->base, p->base_bytes);
    free(p->len);
    free(p->next);
    memset(p, 0, sizeof *p);
}

int ceddy_uring_recv_multishot(ceddy_uring *r, int fd, uint16_t group, uint64_t user_data) {
    struct io_uring_sqe *s = next_sqe(r);
    if (s == NULL) return -EBUSY;
    s->opcode = IORING_OP_RECV;
    s->fd = fd;
    s->ioprio = IORING_RECV_MULTISHOT;
    s->flags = IOSQE_BUFFER_SELECT;
    s->buf_group = group;
    s->user_data = user_data;
    r->sq_tail++;
    return 0;
}


int ceddy_signalfd(void) {
    sigset_t set;
    sigemptyset(&set);
    int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGCHLD};
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaddset(&set, sigs[i]);
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

int ceddy_same_file(int a, int b) {
    long r = syscall(SYS_kcmp, (long)getpid(), (long)getpid(), 0 /* KCMP_FILE */, (long)a, (long)b);
    if (r == 0) return 1;
    if (r > 0) return 0;
    return errno == EBADF ? 0 : -1;
}

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define CEDDY_HAVE_VALGRIND_H 1
#endif
#endif

int ceddy_under_valgrind(void) {
#ifdef CEDDY_HAVE_VALGRIND_H
    return RUNNING_ON_VALGRIND ? 1 : 0;
#else
    return 0;
#endif
}
