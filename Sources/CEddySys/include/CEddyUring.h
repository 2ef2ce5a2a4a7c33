// CEddyUring: the io_uring rings as the io_uring driver (Sources/Eddy/Driver/IoUringDriver.swift)
// sees them. Raw system calls and the kernel's UAPI only (no liburing): libeddy.so stays
// self-contained (docs/ARCHITECTURE.md, "The io_uring driver"). The hot accessors (the
// completion queue's head/tail, one completion, the submission backlog) are inline so
// the driver's turn compiles to loads and stores; setup, submission and enter are here.
#ifndef CEDDYURING_H
#define CEDDYURING_H

#include <stdint.h>

/// One completion, laid out as struct io_uring_cqe (16 bytes: the ring is not CQE32).
typedef struct {
    uint64_t user_data;
    int32_t res;
    uint32_t flags;
} ceddy_cqe;

/// A completion with more to come from the same (multishot) request.
static const uint32_t CEDDY_CQE_F_MORE = 1u << 1;
/// The kernel holds completions that did not fit the ring (an enter flushes them).
static const uint32_t CEDDY_SQ_CQ_OVERFLOW = 1u << 1;

/// One ring pair: the kernel's shared memory and the user side's copies.
typedef struct {
    int fd;
    uint32_t features;
    uint32_t sq_mask, sq_entries, cq_mask, cq_entries;
    /// Next submission slot (published to the kernel's tail by ceddy_uring_enter).
    uint32_t sq_tail;
    uint32_t *sq_khead, *sq_ktail, *sq_kflags, *sq_array;
    uint32_t *cq_khead, *cq_ktail;
    void *sqes;
    ceddy_cqe *cqes;
    void *ring_ptr;
    uint64_t ring_size;
    uint64_t sqes_size;
    /// System calls to io_uring_enter (statistics: syscalls per round trip).
    uint64_t enters;
} ceddy_uring;

/// io_uring_setup + mmap. `entries` submission slots, `cq_entries` completion slots (both
/// powers of two). 0, or -errno: -ENOSYS (kernel without io_uring, or seccomp), -EPERM
/// (io_uring_disabled, container policy), -EOPNOTSUPP (a kernel older than 5.13: no
/// multishot poll, no EXT_ARG wait timeout, or completions that may be dropped).
/// `fail_errno` > 0 makes it fail with -fail_errno before any system call (test hook).
int ceddy_uring_setup(ceddy_uring *r, uint32_t entries, uint32_t cq_entries, int fail_errno);
/// Unmaps and closes (idempotent).
void ceddy_uring_exit(ceddy_uring *r);
/// Queues a poll request on `fd` for `mask` (POLLIN etc., edge-triggered), multishot if
/// `multishot`. 0, or -EBUSY when the submission ring is full (enter, then retry).
int ceddy_uring_poll_add(ceddy_uring *r, int fd, uint32_t mask, uint64_t user_data, int multishot);
/// Queues the cancellation of the poll request `target` (it then completes with
/// -ECANCELED, releasing its file); the cancel's own completion carries `user_data`.
int ceddy_uring_poll_remove(ceddy_uring *r, uint64_t target, uint64_t user_data);
/// One io_uring_enter: submits the queued requests, then waits for `wait_nr` completions
/// at most `timeout_ns` (-1: no limit; ignored when wait_nr is 0). Returns the number
/// submitted or -errno (-EINTR: a signal; -ETIME: the timeout passed).
int ceddy_uring_enter(ceddy_uring *r, uint32_t wait_nr, int64_t timeout_ns);

/// Requests queued and not yet taken by the kernel.
static inline uint32_t ceddy_uring_sq_pending(const ceddy_uring *r) {
    return r->sq_tail - __atomic_load_n(r->sq_khead, __ATOMIC_ACQUIRE);
}
/// The kernel has completions it could not place in the ring.
static inline int ceddy_uring_cq_overflow(const ceddy_uring *r) {
    return (__atomic_load_n(r->sq_kflags, __ATOMIC_RELAXED) & CEDDY_SQ_CQ_OVERFLOW) != 0;
}
/// The completion queue's head (only the user side writes it).
static inline uint32_t ceddy_uring_cq_head(const ceddy_uring *r) { return *r->cq_khead; }
/// The completion queue's tail (acquire: the completions before it are visible).
static inline uint32_t ceddy_uring_cq_tail(const ceddy_uring *r) {
    return __atomic_load_n(r->cq_ktail, __ATOMIC_ACQUIRE);
}
/// The completion at position `i` (head <= i < tail).
static inline const ceddy_cqe *ceddy_uring_cqe_at(const ceddy_uring *r, uint32_t i) {
    return &r->cqes[i & r->cq_mask];
}
/// Hands the completions before `head` back to the kernel.
static inline void ceddy_uring_cq_set_head(ceddy_uring *r, uint32_t head) {
    __atomic_store_n(r->cq_khead, head, __ATOMIC_RELEASE);
}

/* ---- io_uring completion reads (issue 18, phase 2) ---- */

/// A provided-buffer ring (IORING_REGISTER_PBUF_RING, Linux 5.19): `count` buffers of
/// `size` bytes that the kernel picks from for multishot recv requests, and that the
/// driver hands back once a reader has copied them out. The memory is the driver's and
/// lives until the ring is gone, so a request cancelled in flight (a closed socket, a
/// dropped read) can only ever write into it, never into a caller's buffer.
/// Per buffer: the bytes it holds and the next buffer of the same connection (a
/// connection's unread buffers form a list through `next`, headed in its slot).
typedef struct {
    /// The kernel's ring of free buffers (16-byte entries; the tail is entry 0's last 2 bytes).
    void *ring;
    unsigned char *base;
    uint32_t *len;
    uint16_t *next;
    uint32_t count, size, mask;
    /// Buffers the kernel may pick (statistics and the "is it worth a recv" test).
    uint32_t free;
    uint16_t tail;
    uint16_t group;
    uint64_t ring_bytes, base_bytes;
} ceddy_rxpool;

/// No buffer (end of a connection's list).
static const uint16_t CEDDY_RX_NONE = 0xFFFF;
/// A completion that consumed a provided buffer (its id is flags >> 16).
static const uint32_t CEDDY_CQE_F_BUFFER = 1u << 0;

/// Sets up and registers a pool of `count` (a power of two <= 32768) buffers of `size`
/// bytes as buffer group `group`. 0 or -errno: -EOPNOTSUPP on a kernel older than 6.0
/// (multishot recv came with 6.0; buffer rings with 5.19), -EINVAL/-ENOMEM otherwise.
int ceddy_rxpool_setup(ceddy_uring *r, ceddy_rxpool *p, uint32_t count, uint32_t size, uint16_t group);
/// Releases the pool's memory (after ceddy_uring_exit: no request can pick from it).
void ceddy_rxpool_free(ceddy_rxpool *p);
/// Queues a multishot recv on `fd` into the pool's buffers (each completion: bytes read
/// and a buffer id; 0 at end of stream; no IORING_CQE_F_MORE when it ended). 0 or -EBUSY.
int ceddy_uring_recv_multishot(ceddy_uring *r, int fd, uint16_t group, uint64_t user_data);

/// Hands buffer `bid` back to the kernel.
static inline void ceddy_rxpool_give(ceddy_rxpool *p, uint16_t bid) {
    unsigned char *e = (unsigned char *)p->ring + (uint32_t)(p->tail & p->mask) * 16u;
    *(uint64_t *)e = (uint64_t)(uintptr_t)(p->base + (uint64_t)bid * p->size);
    *(uint32_t *)(e + 8) = p->size;
    *(uint16_t *)(e + 12) = bid;
    p->tail++;
    __atomic_store_n((uint16_t *)((unsigned char *)p->ring + 14), p->tail, __ATOMIC_RELEASE);
    p->free++;
}
/// A connection's completion-read state (in its registration slot): its unread buffers
/// (a list through ceddy_rxpool.next; CEDDY_RX_NONE: empty), the bytes of the first one
/// already read, the error its recv ended with, its mode (IoRegistry.swift, RxMode).
typedef struct {
    uint16_t head, tail;
    uint32_t off;
    int32_t error;
    uint8_t mode;
} ceddy_rxq;

/// Appends buffer `bid`, holding `len` bytes, to `q` (a recv completion).
static inline void ceddy_rxq_push(ceddy_rxpool *p, ceddy_rxq *q, uint16_t bid, uint32_t len) {
    p->len[bid] = len;
    p->next[bid] = CEDDY_RX_NONE;
    if (q->tail == CEDDY_RX_NONE) {
        q->head = bid;
    } else {
        p->next[q->tail] = bid;
    }
    q->tail = bid;
}

/// Copies up to `len` (> 0) bytes of `q`'s buffers to `dst`, handing each emptied buffer
/// back to the kernel; the count copied (0 if `q` is empty).
static inline long ceddy_rxq_take(ceddy_rxpool *p, ceddy_rxq *q, unsigned char *dst, unsigned long len) {
    unsigned long n = 0;
    uint16_t bid = q->head;
    while (bid != CEDDY_RX_NONE) {
        unsigned long avail = p->len[bid] - q->off;
        unsigned long c = avail < len - n ? avail : len - n;
        __builtin_memcpy(dst + n, p->base + (uint64_t)bid * p->size + q->off, c);
        n += c;
        if (c < avail) {
            q->off += (uint32_t)c;
            break;
        }
        q->off = 0;
        uint16_t next = p->next[bid];
        ceddy_rxpool_give(p, bid);
        bid = next;
        if (n == len) break;
    }
    q->head = bid;
    if (bid == CEDDY_RX_NONE) q->tail = CEDDY_RX_NONE;
    return (long)n;
}

/// The first byte of buffer `bid`.
static inline unsigned char *ceddy_rxpool_buf(const ceddy_rxpool *p, uint16_t bid) {
    return p->base + (uint64_t)bid * p->size;
}

/// signalfd(2) for the usual termination and user signals (INT, TERM, HUP, QUIT, USR1,
/// USR2, ALRM, CHLD), non-blocking, close-on-exec; -1 and errno on failure. The driver
/// only polls it (never reads it): a signal pending while the thread keeps it blocked —
/// valgrind blocks every signal during io_uring_enter — makes it readable and so ends the
/// wait, and the signal is then delivered to its handler as usual.
int ceddy_signalfd(void);

/// 1 when the process runs under valgrind (its client request; 0 when the library was
/// built without valgrind's header). valgrind 3.19 does not treat io_uring_enter as a
/// system call that may block: while one thread waits in it, no other thread of the
/// program runs (nor is any signal delivered), so the driver then waits in poll(2).
int ceddy_under_valgrind(void);
/// 1 if descriptors `a` and `b` name the same open file (kcmp KCMP_FILE), 0 if not (or
/// one is not open), -1 if kcmp is unavailable (no CONFIG_KCMP, seccomp).
int ceddy_same_file(int a, int b);

#endif
