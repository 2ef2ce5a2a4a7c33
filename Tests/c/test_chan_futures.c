/* test_chan_futures.c — the future-style channel and sync calls (include/eddy.h,
 * "channel and sync futures"): eddy_channel_send / _recv, eddy_notify_wait,
 * eddy_semaphore_acquire, eddy_broadcast_recv, eddy_watch_changed,
 * eddy_future_take_received.
 *
 * Backpressure and order between two tasks; a plain pthread and a task of a second
 * runtime completing a future; the drop function exactly once for a send future
 * dropped before completion (and never on a failed creation); an untaken received
 * value dropped once; a dropped acquire / wait future handing its permit on;
 * broadcast lag; watch change; timeout around a receive; stale, forged and
 * wrong-kind handles. */
#include "harness.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

static atomic_int drops;
static atomic_int clones;
static void count_drop(void *v)
{
    (void)v;
    atomic_fetch_add(&drops, 1);
}
static void *count_clone(void *v)
{
    atomic_fetch_add(&clones, 1);
    return v;
}

#define V(n) ((void *)(uintptr_t)(n))

/* Polls a future once inside eddy_block_on and returns what eddy_future_poll said. */
typedef struct {
    eddy_future_t fut;
    int result;
} once_t;
static int poll_once_fn(void *state, eddy_cx_t *cx)
{
    once_t *o = state;
    o->result = eddy_future_poll(o->fut, cx);
    return EDDY_READY;
}
static int poll_once(eddy_runtime_t rt, eddy_future_t fut)
{
    once_t o = {fut, 12345};
    int st = 0;
    int r = eddy_block_on(rt, poll_once_fn, &o, NULL, &st);
    return r != 0 ? r : o.result;
}

/* ---- mpsc: two tasks, backpressure, order, the end ---- */

enum { N_VALUES = 200 };
typedef struct {
    eddy_runtime_t rt;
    eddy_sender_t tx;
    eddy_future_t fut;
    int next;
    int err;
} producer_t;
static int producer_poll(void *st, eddy_cx_t *cx)
{
    producer_t *p = st;
    for (;;) {
        if (p->fut.id == 0) {
            if (p->next == N_VALUES) {
                eddy_channel_sender_free(p->tx); /* the receiver sees the end */
                return EDDY_READY;
            }
            if ((p->err = eddy_channel_send(p->rt, p->tx, V(p->next + 1), &p->fut)) != 0) return p->err;
        }
        int r = eddy_future_poll(p->fut, cx);
        if (r == EDDY_PENDING) return EDDY_PENDING;
        eddy_future_free(p->fut);
        p->fut.id = 0;
        if (r != EDDY_READY) return p->err = r;
        p->next++;
    }
}
typedef struct {
    eddy_runtime_t rt;
    eddy_receiver_t rx;
    eddy_future_t fut;
    int got;
    int in_order;
    int end;
} consumer_t;
static int consumer_poll(void *st, eddy_cx_t *cx)
{
    consumer_t *c = st;
    for (;;) {
        if (c->fut.id == 0 && eddy_channel_recv(c->rt, c->rx, &c->fut) != 0) return EDDY_EINVAL;
        int r = eddy_future_poll(c->fut, cx);
        if (r == EDDY_PENDING) return EDDY_PENDING;
        if (r == EDDY_EPIPE) {
            c->end = 1;
            eddy_future_free(c->fut);
            c->fut.id = 0;
            return EDDY_READY;
        }
        void *v = NULL;
        uint64_t missed = 99;
        if (r != EDDY_READY || eddy_future_take_received(c->fut, &v, &missed) != 0 || missed != 0) return EDDY_EINVAL;
        /* a second take: the value moved out already */
        if (eddy_future_take_received(c->fut, &v, NULL) != EDDY_ENOTREADY) return EDDY_EINVAL;
        eddy_future_free(c->fut);
        c->fut.id = 0;
        c->got++;
        if ((uintptr_t)v != (uintptr_t)c->got) c->in_order = 0;
    }
}

static void test_tasks_send_recv_backpressure_order_end(void **state)
{
    fixture_t *f = *state;
    eddy_sender_t tx;
    eddy_receiver_t rx;
    assert_int_equal(eddy_channel_new(f->rt, 3, count_drop, &tx, &rx), 0);
    atomic_store(&drops, 0);
    producer_t p = {.rt = f->rt, .tx = tx};
    consumer_t c = {.rt = f->rt, .rx = rx, .in_order = 1};
    eddy_task_t tp, tc;
    assert_int_equal(eddy_spawn(f->rt, producer_poll, &p, NULL, &tp), 0);
    assert_int_equal(eddy_spawn(f->rt, consumer_poll, &c, NULL, &tc), 0);
    assert_int_equal(eddy_runtime_run(f->rt), 0);
    int st;
    assert_int_equal(eddy_task_status(tp, &st), EDDY_READY);
    assert_int_equal(st, 0);
    assert_int_equal(eddy_task_status(tc, &st), EDDY_READY);
    assert_int_equal(st, 0);
    assert_int_equal(c.got, N_VALUES);
    assert_true(c.in_order);
    assert_true(c.end);
    assert_int_equal(atomic_load(&drops), 0);
    assert_int_equal(eddy_task_free(tp), 0);
    assert_int_equal(eddy_task_free(tc), 0);
    assert_int_equal(eddy_channel_receiver_free(rx), 0);
    FINISH(f);
}

/* ---- ownership of a send future's value ---- */

static void test_send_future_dropped_runs_drop_once(void **state)
{
    fixture_t *f = *state;
    eddy_sender_t tx;
    eddy_receiver_t rx;
    assert_int_equal(eddy_channel_new(f->rt, 1, count_drop, &tx, &rx), 0);
    atomic_store(&drops, 0);
    assert_int_equal(eddy_channel_try_send(tx, V(1)), 0); /* full now */
    eddy_future_t s;
    assert_int_equal(eddy_channel_send(f->rt, tx, V(2), &s), 0);
    assert_int_equal(poll_once(f->rt, s), EDDY_PENDING); /* waits for room, queued */
    assert_int_equal(eddy_future_free(s), 0);             /* dropped before completion */
    assert_int_equal(atomic_load(&drops), 1);             /* V(2): once */
    void *v = NULL;
    assert_int_equal(eddy_channel_try_recv(rx, &v), 0);
    assert_ptr_equal(v, V(1));
    assert_int_equal(eddy_channel_try_recv(rx, &v), EDDY_EAGAIN); /* V(2) never arrived */
    /* its place was withdrawn: the slot freed above is free for try_send */
    assert_int_equal(eddy_channel_try_send(tx, V(3)), 0);
    assert_int_equal(eddy_channel_try_recv(rx, &v), 0);
    assert_ptr_equal(v, V(3));

    /* A completed send: the channel owns the value (dropped by the receiver's free). */
    assert_int_equal(eddy_channel_send(f->rt, tx, V(4), &s), 0);
    assert_int_equal(block_on_future(f->rt, s), 0);
    assert_int_equal(eddy_future_take_received(s, &v, NULL), EDDY_EINVAL); /* a send receives nothing */
    assert_int_equal(eddy_future_free(s), 0);
    assert_int_equal(atomic_load(&drops), 1);

    /* Closed: the send completes with EPIPE; the value is dropped at the future's free. */
    assert_int_equal(eddy_channel_close(rx), 0);
    assert_int_equal(eddy_channel_send(f->rt, tx, V(5), &s), 0);
    assert_int_equal(block_on_future(f->rt, s), EDDY_EPIPE);
    assert_int_equal(atomic_load(&drops), 1);
    assert_int_equal(eddy_future_free(s), 0);
    assert_int_equal(atomic_load(&drops), 2);

    /* A failed creation leaves the value the caller's: no drop. */
    eddy_sender_t stale = tx;
    eddy_sender_t c;
    assert_int_equal(eddy_channel_clone_sender(tx, &c), 0);
    assert_int_equal(eddy_channel_sender_free(c), 0);
    stale = c;
    assert_int_equal(eddy_channel_send(f->rt, stale, V(6), &s), EDDY_EBADHANDLE);
    assert_int_equal(eddy_channel_send(f->rt, tx, V(6), NULL), EDDY_EINVAL);
    assert_int_equal(atomic_load(&drops), 2);

    assert_int_equal(eddy_channel_sender_free(tx), 0);
    assert_int_equal(eddy_channel_receiver_free(rx), 0);
    assert_int_equal(atomic_load(&drops), 3); /* V(4), queued and never received */
    FINISH(f);
}

static void test_send_future_freed_with_runtime_drops_once(void **state)
{
    fixture_t *f = *state;
    eddy_runtime_t rt2;
    assert_int_equal(eddy_runtime_new(NULL, &rt2), 0);
    eddy_sender_t tx;
    eddy_receiver_t rx;
    assert_int_equal(eddy_channel_new(f->rt, 1, count_drop, &tx, &rx), 0);
    atomic_store(&drops, 0);
    assert_int_equal(eddy_channel_try_send(tx, V(1)), 0);
    eddy_future_t s; /* a future of rt2 on a channel of f->rt */
    assert_int_equal(eddy_channel_send(rt2, tx, V(2), &s), 0);
    assert_int_equal(poll_once(rt2, s), EDDY_PENDING);
    assert_int_equal(eddy_runtime_free(rt2), 1); /* the future, force-closed */
    assert_int_equal(atomic_load(&drops), 1);
    assert_int_equal(eddy_future_free(s), EDDY_EBADHANDLE);
    assert_int_equal(atomic_load(&drops), 1);
    assert_int_equal(eddy_channel_sender_free(tx), 0);
    assert_int_equal(eddy_channel_receiver_free(rx), 0);
    assert_int_equal(atomic_load(&drops), 2); /* V(1) */
    FINISH(f);
}

static void test_recv_future_untaken_value_dropped_once(void **state)
{
    fixture_t *f = *state;
    eddy_sender_t tx;
    eddy_receiver_t rx;
    assert_int_equal(eddy_channel_new(f->rt, 4, count_drop, &tx, &rx), 0);
    atomic_store(&drops, 0);
    eddy_future_t r;
    void *v;
    assert_int_equal(eddy_channel_recv(f->rt, rx, &r), 0);
    assert_int_equal(eddy_future_take_received(r, &v, NULL), EDDY_ENOTREADY); /* not completed */
    assert_int_equal(eddy_future_take_received(r, NULL, NULL), EDDY_EINVAL);
    assert_int_equal(eddy_channel_try_send(tx, V(5)), 0);
    assert_int_equal(block_on_future(f->rt, r), 0);
    assert_int_equal(eddy_future_free(r), 0); /* never taken */
    assert_int_equal(atomic_load(&drops), 1);
    /* the receiver handle may be freed while a receive future waits */
    assert_int_equal(eddy_channel_recv(f->rt, rx, &r), 0);
    assert_int_equal(poll_once(f->rt, r), EDDY_PENDING);
    assert_int_equal(eddy_channel_receiver_free(rx), 0);
    assert_int_equal(eddy_channel_try_send(tx, V(6)), 0);
    assert_int_equal(block_on_future(f->rt, r), 0);
    assert_int_equal(eddy_future_take_received(r, &v, NULL), 0);
    assert_ptr_equal(v, V(6));
    assert_int_equal(eddy_future_free(r), 0);
    assert_int_equal(eddy_channel_sender_free(tx), 0);
    assert_int_equal(atomic_load(&drops), 1);
    FINISH(f);
}

/* ---- oneshot, from a plain pthread ---- */

typedef struct {
    eddy_sender_t tx;
    unsigned delay_ms;
    int rc;
} late_send_t;
static void *late_send(void *arg)
{
    late_send_t *l = arg;
    sleep_ms(l->delay_ms);
    l->rc = eddy_channel_try_send(l->tx, V(42));
    return NULL;
}

static void test_oneshot_futures_and_plain_thread(void **state)
{
    fixture_t *f = *state;
    eddy_sender_t tx;
    eddy_receiver_t rx;
    assert_int_equal(eddy_oneshot_new(f->rt, count_drop, &tx, &rx), 0);
    atomic_store(&drops, 0);
    eddy_future_t r;
    assert_int_equal(eddy_channel_recv(f->rt, rx, &r), 0);
    late_send_t l = {tx, 30, 1};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, late_send, &l), 0);
    assert_int_equal(block_on_future(f->rt, r), 0); /* woken by the plain thread */
    pthread_join(th, NULL);
    assert_int_equal(l.rc, 0);
    void *v = NULL;
    assert_int_equal(eddy_future_take_received(r, &v, NULL), 0);
    assert_ptr_equal(v, V(42));
    assert_int_equal(eddy_future_free(r), 0);
    /* received once: a second receive future completes with ENOTREADY */
    assert_int_equal(eddy_channel_recv(f->rt, rx, &r), 0);
    assert_int_equal(block_on_future(f->rt, r), EDDY_ENOTREADY);
    assert_int_equal(eddy_future_free(r), 0);
    assert_int_equal(eddy_channel_sender_free(tx), 0);
    assert_int_equal(eddy_channel_receiver_free(rx), 0);

    /* oneshot send future: sends at its first poll; a second one sees EPIPE */
    assert_int_equal(eddy_oneshot_new(f->rt, count_drop, &tx, &rx), 0);
    eddy_future_t s1, s2;
    assert_int_equal(eddy_channel_send(f->rt, tx, V(7), &s1), 0);
    assert_int_equal(eddy_channel_send(f->rt, tx, V(8), &s2), 0);
    assert_int_equal(block_on_future(f->rt, s1), 0);
    assert_int_equal(block_on_future(f->rt, s2), EDDY_EPIPE);
    assert_int_equal(eddy_future_free(s2), 0);
    assert_int_equal(atomic_load(&drops), 1); /* V(8), never sent */
    assert_int_equal(eddy_future_free(s1), 0);
    assert_int_equal(eddy_channel_try_recv(rx, &v), 0);
    assert_ptr_equal(v, V(7));
    assert_int_equal(eddy_channel_sender_free(tx), 0);
    assert_int_equal(eddy_channel_receiver_free(rx), 0);
    assert_int_equal(atomic_load(&drops), 1);

    /* a pending send future keeps the sending end: freeing tx right after making it does
     * not close the channel under it */
    assert_int_equal(eddy_oneshot_new(f->rt, count_drop, &tx, &rx), 0);
    assert_int_equal(eddy_channel_send(f->rt, tx, V(9), &s1), 0);
    assert_int_equal(eddy_channel_sender_free(tx), 0);
    assert_int_equal(eddy_channel_try_recv(rx, &v), EDDY_EAGAIN); /* not EPIPE */
    assert_int_equal(block_on_future(f->rt, s1), 0);
    assert_int_equal(eddy_future_free(s1), 0);
    assert_int_equal(eddy_channel_try_recv(rx, &v), 0);
    assert_ptr_equal(v, V(9));
    assert_int_equal(eddy_channel_receiver_free(rx), 0);
    /* and once the last send future goes unsent, the receiver sees the end */
    assert_int_equal(eddy_oneshot_new(f->rt, count_drop, &tx, &rx), 0);
    assert_int_equal(eddy_channel_send(f->rt, tx, V(10), &s1), 0);
    assert_int_equal(eddy_channel_sender_free(tx), 0);
    assert_int_equal(eddy_future_free(s1), 0); /* never polled: V(10) dropped */
    assert_int_equal(atomic_load(&drops), 2);
    assert_int_equal(eddy_channel_try_recv(rx, &v), EDDY_EPIPE);
    assert_int_equal(eddy_channel_receiver_free(rx), 0);
    FINISH(f);
}

/* ---- a task of a second runtime on another thread sends with futures ---- */

typedef struct {
    eddy_sender_t tx;
    int status;
} remote_t;
static void *remote_producer(void *arg)
{
    remote_t *r = arg;
    eddy_runtime_t rt2;
    if (eddy_runtime_new(NULL, &rt2) != 0) {
        r->status = -1;
        return NULL;
    }
    producer_t p = {.rt = rt2, .tx = r->tx};
    int st = 12345;
    int rc = eddy_block_on(rt2, producer_poll, &p, NULL, &st);
    r->status = rc != 0 ? rc : st != 0 ? st : p.next == N_VALUES ? 0 : -2;
    if (eddy_runtime_free(rt2) != 0) r->status = -3;
    return NULL;
}

static void test_another_runtime_sends(void **state)
{
    fixture_t *f = *state;
    eddy_sender_t tx;
    eddy_receiver_t rx;
    assert_int_equal(eddy_channel_new(f->rt, 2, NULL, &tx, &rx), 0);
    remote_t r = {tx, 12345};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, remote_producer, &r), 0);
    consumer_t c = {.rt = f->rt, .rx = rx, .in_order = 1};
    int st = 12345;
    assert_int_equal(eddy_block_on(f->rt, consumer_poll, &c, NULL, &st), 0);
    assert_int_equal(st, 0);
    pthread_join(th, NULL);
    assert_int_equal(r.status, 0);
    assert_int_equal(c.got, N_VALUES);
    assert_true(c.in_order);
    assert_true(c.end);
    assert_int_equal(eddy_channel_receiver_free(rx), 0);
    FINISH(f);
}

/* ---- semaphore / mutex: FIFO and cancellation safety ---- */

static void test_acquire_future_dropped_gives_permit_on(void **state)
{
    fixture_t *f = *state;
    eddy_semaphore_t sem;
    assert_int_equal(eddy_semaphore_new(f->rt, 0, 0, &sem), 0);
    eddy_future_t a, b;
    assert_int_equal(eddy_semaphore_acquire(f->rt, sem, &a), 0);
    assert_int_equal(eddy_semaphore_acquire(f->rt, sem, &b), 0);
    assert_int_equal(poll_once(f->rt, a), EDDY_PENDING); /* a first in line */
    assert_int_equal(poll_once(f->rt, b), EDDY_PENDING);
    assert_int_equal(eddy_semaphore_release(sem), 0);    /* handed to a */
    assert_int_equal(eddy_semaphore_try_acquire(sem), EDDY_EAGAIN);
    assert_int_equal(eddy_future_free(a), 0);            /* a never took it: b gets it */
    assert_int_equal(poll_once(f->rt, b), EDDY_READY);   /* at once (a lost permit would fail here) */
    assert_int_equal(eddy_future_free(b), 0);
    assert_int_equal(eddy_semaphore_try_acquire(sem), EDDY_EAGAIN); /* b holds the one permit */
    /* a waiting future dropped: its place goes, the permit released stays free */
    assert_int_equal(eddy_semaphore_acquire(f->rt, sem, &a), 0);
    assert_int_equal(poll_once(f->rt, a), EDDY_PENDING);
    assert_int_equal(eddy_future_free(a), 0);
    assert_int_equal(eddy_semaphore_release(sem), 0);
    assert_int_equal(eddy_semaphore_try_acquire(sem), 0);
    /* closed: a waiting acquire completes with EPIPE */
    assert_int_equal(eddy_semaphore_acquire(f->rt, sem, &a), 0);
    assert_int_equal(poll_once(f->rt, a), EDDY_PENDING);
    assert_int_equal(eddy_semaphore_close(sem), 0);
    assert_int_equal(block_on_future(f->rt, a), EDDY_EPIPE);
    assert_int_equal(eddy_future_free(a), 0);
    assert_int_equal(eddy_semaphore_free(sem), 0);
    FINISH(f);
}

static void test_mutex_lock_future(void **state)
{
    fixture_t *f = *state;
    eddy_semaphore_t m;
    assert_int_equal(eddy_semaphore_new(f->rt, 1, 1, &m), 0);
    eddy_future_t l1, l2;
    assert_int_equal(eddy_semaphore_acquire(f->rt, m, &l1), 0);
    assert_int_equal(eddy_semaphore_free(m), 0); /* the future holds what it needs */
    assert_int_equal(block_on_future(f->rt, l1), 0); /* locked */
    /* a second lock waits until the unlock; need a handle to unlock: none is left,
     * so make the pair again with a handle kept */
    assert_int_equal(eddy_future_free(l1), 0);
    assert_int_equal(eddy_semaphore_new(f->rt, 1, 1, &m), 0);
    assert_int_equal(eddy_semaphore_acquire(f->rt, m, &l1), 0);
    assert_int_equal(eddy_semaphore_acquire(f->rt, m, &l2), 0);
    assert_int_equal(block_on_future(f->rt, l1), 0);
    assert_int_equal(poll_once(f->rt, l2), EDDY_PENDING);
    assert_int_equal(eddy_semaphore_release(m), 0); /* unlock: to l2 */
    assert_int_equal(block_on_future(f->rt, l2), 0);
    assert_int_equal(eddy_semaphore_release(m), 0);
    assert_int_equal(eddy_semaphore_release(m), EDDY_EINVAL); /* unlocking an unlocked mutex */
    assert_int_equal(eddy_future_free(l1), 0);
    assert_int_equal(eddy_future_free(l2), 0);
    assert_int_equal(eddy_semaphore_free(m), 0);
    FINISH(f);
}

/* ---- notify ---- */

static void test_notify_wait_future(void **state)
{
    fixture_t *f = *state;
    eddy_notify_t n;
    assert_int_equal(eddy_notify_new(f->rt, &n), 0);
    eddy_future_t w1, w2;
    assert_int_equal(eddy_notify_one(n), 0); /* stored */
    assert_int_equal(eddy_notify_wait(f->rt, n, &w1), 0);
    assert_int_equal(poll_once(f->rt, w1), EDDY_READY);
    assert_int_equal(eddy_future_free(w1), 0);
    assert_int_equal(eddy_notify_wait(f->rt, n, &w1), 0);
    assert_int_equal(eddy_notify_wait(f->rt, n, &w2), 0);
    assert_int_equal(poll_once(f->rt, w1), EDDY_PENDING);
    assert_int_equal(poll_once(f->rt, w2), EDDY_PENDING);
    assert_int_equal(eddy_notify_one(n), 0); /* to w1 */
    assert_int_equal(eddy_future_free(w1), 0); /* dropped: the notification goes to w2 */
    assert_int_equal(poll_once(f->rt, w2), EDDY_READY);
    assert_int_equal(eddy_future_free(w2), 0);
    /* nothing stored left over */
    assert_int_equal(eddy_notify_wait(f->rt, n, &w1), 0);
    assert_int_equal(poll_once(f->rt, w1), EDDY_PENDING);
    assert_int_equal(eddy_future_free(w1), 0);
    assert_int_equal(eddy_notify_free(n), 0);
    FINISH(f);
}

/* ---- broadcast and watch ---- */

static void test_broadcast_recv_future_lag_and_untaken_clone(void **state)
{
    fixture_t *f = *state;
    eddy_broadcast_tx_t tx;
    eddy_broadcast_rx_t rx;
    assert_int_equal(eddy_broadcast_new(f->rt, 2, count_clone, count_drop, &tx, &rx), 0);
    atomic_store(&drops, 0);
    atomic_store(&clones, 0);
    for (int i = 1; i <= 4; i++) assert_int_equal(eddy_broadcast_send(tx, V(i)), 1);
    assert_int_equal(atomic_load(&drops), 2); /* 1 and 2 superseded */
    eddy_future_t r;
    assert_int_equal(eddy_broadcast_recv(f->rt, rx, &r), 0);
    assert_int_equal(block_on_future(f->rt, r), 0);
    void *v = NULL;
    uint64_t missed = 0;
    assert_int_equal(eddy_future_take_received(r, &v, &missed), 0);
    assert_ptr_equal(v, V(3));
    assert_int_equal(missed, 2);
    assert_int_equal(eddy_future_free(r), 0);
    /* a clone received and never taken is dropped once with the future */
    assert_int_equal(eddy_broadcast_recv(f->rt, rx, &r), 0);
    assert_int_equal(block_on_future(f->rt, r), 0);
    assert_int_equal(atomic_load(&clones), 2);
    assert_int_equal(eddy_future_free(r), 0);
    assert_int_equal(atomic_load(&drops), 3);
    /* waiting, then the sender's free: EPIPE */
    assert_int_equal(eddy_broadcast_recv(f->rt, rx, &r), 0);
    assert_int_equal(poll_once(f->rt, r), EDDY_PENDING);
    assert_int_equal(eddy_broadcast_sender_free(tx), 0);
    assert_int_equal(block_on_future(f->rt, r), EDDY_EPIPE);
    assert_int_equal(eddy_future_free(r), 0);
    assert_int_equal(eddy_broadcast_receiver_free(rx), 0);
    assert_int_equal(atomic_load(&drops), 5); /* + 3 and 4 kept by the channel */
    FINISH(f);
}

typedef struct {
    eddy_watch_tx_t tx;
    int rc;
} watch_send_t;
static void *late_watch_send(void *arg)
{
    watch_send_t *w = arg;
    sleep_ms(30);
    w->rc = eddy_watch_send(w->tx, V(2));
    return NULL;
}

static void test_watch_changed_future(void **state)
{
    fixture_t *f = *state;
    eddy_watch_tx_t tx;
    eddy_watch_rx_t rx;
    assert_int_equal(eddy_watch_new(f->rt, V(1), NULL, NULL, &tx, &rx), 0);
    eddy_future_t c;
    assert_int_equal(eddy_watch_changed(f->rt, rx, &c), 0);
    assert_int_equal(poll_once(f->rt, c), EDDY_PENDING); /* the initial value counts as seen */
    watch_send_t w = {tx, 1};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, late_watch_send, &w), 0);
    assert_int_equal(block_on_future(f->rt, c), 0); /* a plain thread's send wakes it */
    pthread_join(th, NULL);
    assert_int_equal(w.rc, 0);
    void *v;
    assert_int_equal(eddy_future_take_received(c, &v, NULL), EDDY_EINVAL); /* carries no value */
    assert_int_equal(eddy_future_free(c), 0);
    assert_int_equal(eddy_watch_get(rx, &v), 0);
    assert_ptr_equal(v, V(2));
    assert_int_equal(eddy_watch_sender_free(tx), 0);
    assert_int_equal(eddy_watch_changed(f->rt, rx, &c), 0);
    assert_int_equal(block_on_future(f->rt, c), EDDY_EPIPE);
    assert_int_equal(eddy_future_free(c), 0);
    assert_int_equal(eddy_watch_receiver_free(rx), 0);
    FINISH(f);
}

/* ---- timeout around a receive: cancelled cleanly, the channel still works ---- */

static void test_timeout_around_recv(void **state)
{
    fixture_t *f = *state;
    eddy_sender_t tx;
    eddy_receiver_t rx;
    assert_int_equal(eddy_channel_new(f->rt, 1, count_drop, &tx, &rx), 0);
    atomic_store(&drops, 0);
    eddy_future_t r, t;
    assert_int_equal(eddy_channel_recv(f->rt, rx, &r), 0);
    assert_int_equal(eddy_timeout(f->rt, r, 20 * MS, &t), 0);
    assert_int_equal(block_on_future(f->rt, t), EDDY_ETIMEDOUT);
    assert_int_equal(eddy_future_free(t), 0);
    assert_int_equal(eddy_channel_try_send(tx, V(9)), 0);
    assert_int_equal(eddy_channel_recv(f->rt, rx, &r), 0);
    assert_int_equal(eddy_timeout(f->rt, r, 5000 * MS, &t), 0);
    assert_int_equal(block_on_future(f->rt, t), 0);
    void *v = NULL;
    assert_int_equal(eddy_future_take_received(t, &v, NULL), 0); /* through the timeout */
    assert_ptr_equal(v, V(9));
    assert_int_equal(eddy_future_free(t), 0);
    assert_int_equal(eddy_channel_sender_free(tx), 0);
    assert_int_equal(eddy_channel_receiver_free(rx), 0);
    assert_int_equal(atomic_load(&drops), 0);
    FINISH(f);
}

/* ---- bad input ---- */

static void test_bad_handles_and_kinds(void **state)
{
    fixture_t *f = *state;
    eddy_sender_t tx;
    eddy_receiver_t rx;
    eddy_semaphore_t sem;
    eddy_notify_t n;
    eddy_broadcast_tx_t btx;
    eddy_broadcast_rx_t brx;
    eddy_watch_tx_t wtx;
    eddy_watch_rx_t wrx;
    assert_int_equal(eddy_channel_new(f->rt, 1, NULL, &tx, &rx), 0);
    assert_int_equal(eddy_semaphore_new(f->rt, 1, 0, &sem), 0);
    assert_int_equal(eddy_notify_new(f->rt, &n), 0);
    assert_int_equal(eddy_broadcast_new(f->rt, 1, NULL, NULL, &btx, &brx), 0);
    assert_int_equal(eddy_watch_new(f->rt, NULL, NULL, NULL, &wtx, &wrx), 0);
    eddy_future_t out = {0};
    /* wrong kinds and ends */
    assert_int_equal(eddy_channel_send(f->rt, (eddy_sender_t){rx.id}, V(1), &out), EDDY_EBADHANDLE);
    assert_int_equal(eddy_channel_recv(f->rt, (eddy_receiver_t){tx.id}, &out), EDDY_EBADHANDLE);
    assert_int_equal(eddy_semaphore_acquire(f->rt, (eddy_semaphore_t){n.id}, &out), EDDY_EBADHANDLE);
    assert_int_equal(eddy_notify_wait(f->rt, (eddy_notify_t){sem.id}, &out), EDDY_EBADHANDLE);
    assert_int_equal(eddy_broadcast_recv(f->rt, (eddy_broadcast_rx_t){btx.id}, &out), EDDY_EBADHANDLE);
    assert_int_equal(eddy_broadcast_recv(f->rt, (eddy_broadcast_rx_t){wrx.id}, &out), EDDY_EBADHANDLE);
    assert_int_equal(eddy_watch_changed(f->rt, (eddy_watch_rx_t){wtx.id}, &out), EDDY_EBADHANDLE);
    assert_int_equal(eddy_watch_changed(f->rt, (eddy_watch_rx_t){brx.id}, &out), EDDY_EBADHANDLE);
    /* forged and zero handles */
    assert_int_equal(eddy_channel_recv(f->rt, (eddy_receiver_t){rx.id + 1}, &out), EDDY_EBADHANDLE);
    assert_int_equal(eddy_notify_wait(f->rt, (eddy_notify_t){0}, &out), EDDY_EBADHANDLE);
    assert_int_equal(eddy_semaphore_acquire(f->rt, (eddy_semaphore_t){~(uint64_t)0}, &out), EDDY_EBADHANDLE);
    /* a bad runtime, a channel handle passed as the runtime */
    assert_int_equal(eddy_channel_recv((eddy_runtime_t){f->rt.id + 1}, rx, &out), EDDY_EBADHANDLE);
    assert_int_equal(eddy_channel_recv((eddy_runtime_t){rx.id}, rx, &out), EDDY_EBADHANDLE);
    /* out NULL */
    assert_int_equal(eddy_channel_recv(f->rt, rx, NULL), EDDY_EINVAL);
    assert_int_equal(eddy_notify_wait(f->rt, n, NULL), EDDY_EINVAL);
    assert_int_equal(eddy_semaphore_acquire(f->rt, sem, NULL), EDDY_EINVAL);
    assert_int_equal(eddy_broadcast_recv(f->rt, brx, NULL), EDDY_EINVAL);
    assert_int_equal(eddy_watch_changed(f->rt, wrx, NULL), EDDY_EINVAL);
    assert_int_equal(out.id, 0); /* nothing was made */
    /* take_received on futures that receive nothing, stale and forged futures */
    void *v;
    eddy_future_t s;
    assert_int_equal(eddy_sleep(f->rt, 0, &s), 0);
    assert_int_equal(eddy_future_take_received(s, &v, NULL), EDDY_ENOTREADY);
    assert_int_equal(block_on_future(f->rt, s), 0);
    assert_int_equal(eddy_future_take_received(s, &v, NULL), EDDY_EINVAL);
    assert_int_equal(eddy_future_free(s), 0);
    assert_int_equal(eddy_future_take_received(s, &v, NULL), EDDY_EBADHANDLE);
    assert_int_equal(eddy_future_take_received((eddy_future_t){rx.id}, &v, NULL), EDDY_EBADHANDLE);
    /* stale handles after their free */
    assert_int_equal(eddy_channel_sender_free(tx), 0);
    assert_int_equal(eddy_channel_receiver_free(rx), 0);
    assert_int_equal(eddy_semaphore_free(sem), 0);
    assert_int_equal(eddy_notify_free(n), 0);
    assert_int_equal(eddy_broadcast_sender_free(btx), 0);
    assert_int_equal(eddy_broadcast_receiver_free(brx), 0);
    assert_int_equal(eddy_watch_sender_free(wtx), 0);
    assert_int_equal(eddy_watch_receiver_free(wrx), 0);
    assert_int_equal(eddy_channel_send(f->rt, tx, V(1), &out), EDDY_EBADHANDLE);
    assert_int_equal(eddy_channel_recv(f->rt, rx, &out), EDDY_EBADHANDLE);
    assert_int_equal(eddy_semaphore_acquire(f->rt, sem, &out), EDDY_EBADHANDLE);
    assert_int_equal(eddy_notify_wait(f->rt, n, &out), EDDY_EBADHANDLE);
    assert_int_equal(eddy_broadcast_recv(f->rt, brx, &out), EDDY_EBADHANDLE);
    assert_int_equal(eddy_watch_changed(f->rt, wrx, &out), EDDY_EBADHANDLE);
    FINISH(f);
}

/* A future belongs to the thread of its runtime: another thread's calls are refused. */
typedef struct {
    eddy_future_t fut;
    int poll_rc, take_rc, free_rc;
} foreign_t;
static void *foreign_calls(void *arg)
{
    foreign_t *x = arg;
    void *v;
    x->take_rc = eddy_future_take_received(x->fut, &v, NULL);
    x->free_rc = eddy_future_free(x->fut);
    return NULL;
}

static void test_future_of_another_thread(void **state)
{
    fixture_t *f = *state;
    eddy_notify_t n;
    assert_int_equal(eddy_notify_new(f->rt, &n), 0);
    foreign_t x = {.take_rc = 1, .free_rc = 1};
    assert_int_equal(eddy_notify_wait(f->rt, n, &x.fut), 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, foreign_calls, &x), 0);
    pthread_join(th, NULL);
    assert_int_equal(x.take_rc, EDDY_EWRONGTHREAD);
    assert_int_equal(x.free_rc, EDDY_EWRONGTHREAD);
    assert_int_equal(eddy_future_free(x.fut), 0);
    assert_int_equal(eddy_notify_free(n), 0);
    FINISH(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tasks_send_recv_backpressure_order_end, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_send_future_dropped_runs_drop_once, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_send_future_freed_with_runtime_drops_once, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_recv_future_untaken_value_dropped_once, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_oneshot_futures_and_plain_thread, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_another_runtime_sends, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_acquire_future_dropped_gives_permit_on, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_mutex_lock_future, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_notify_wait_future, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_broadcast_recv_future_lag_and_untaken_clone, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_watch_changed_future, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_timeout_around_recv, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_bad_handles_and_kinds, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_future_of_another_thread, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
