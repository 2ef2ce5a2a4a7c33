/* test_broadcast.c — eddy_broadcast_* and eddy_watch_* (include/eddy.h, "broadcast and
 * watch channels").
 *
 * Every receiver gets every value (as a clone it owns); a lagging receiver is told how
 * many it missed; the sender's free ends receivers after what is kept; send with no
 * receiver left; the drop function once per value superseded or left in the channel
 * (counted against the values made: made == dropped + clones freed by receivers);
 * receive after close; poll-style receivers in tasks woken by sends; a plain pthread
 * sending while another thread receives (received + missed == sent, in order); watch's latest
 * value, skipped intermediates, EDDY_EPIPE once the sender is gone; wrong ends, stale
 * handles and a freed runtime. */
#include "harness.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

/* Values are heap ints: each made, cloned and dropped one is counted. */
static atomic_int made, dropped;
static void *make_val(int n)
{
    int *p = malloc(sizeof *p);
    *p = n;
    atomic_fetch_add(&made, 1);
    return p;
}
static void *clone_val(void *v)
{
    return make_val(*(int *)v);
}
static void drop_val(void *v)
{
    atomic_fetch_add(&dropped, 1);
    free(v);
}
/* A receiver frees its clone the same way (counted as a drop). */
static int take(void *v)
{
    int n = *(int *)v;
    drop_val(v);
    return n;
}
static void reset(void)
{
    atomic_store(&made, 0);
    atomic_store(&dropped, 0);
}

static void test_broadcast_fanout_and_end(void **state)
{
    fixture_t *f = *state;
    reset();
    eddy_broadcast_tx_t tx;
    eddy_broadcast_rx_t a, b;
    assert_int_equal(eddy_broadcast_new(f->rt, 4, clone_val, drop_val, &tx, &a), 0);
    assert_int_equal(eddy_broadcast_subscribe(tx, &b), 0);
    void *v = NULL;
    uint64_t missed = 99;
    assert_int_equal(eddy_broadcast_try_recv(a, &v, &missed), EDDY_EAGAIN);
    assert_int_equal(eddy_broadcast_send(tx, make_val(1)), 2); /* two receivers */
    assert_int_equal(eddy_broadcast_send(tx, make_val(2)), 2);
    for (int r = 0; r < 2; r++) {
        eddy_broadcast_rx_t rx = r ? b : a;
        assert_int_equal(eddy_broadcast_try_recv(rx, &v, &missed), 0);
        assert_int_equal(missed, 0);
        assert_int_equal(take(v), 1);
        assert_int_equal(eddy_broadcast_try_recv(rx, &v, NULL), 0);
        assert_int_equal(take(v), 2);
        assert_int_equal(eddy_broadcast_try_recv(rx, &v, &missed), EDDY_EAGAIN);
    }
    /* A receiver subscribed now sees only what is sent from now on. */
    eddy_broadcast_rx_t c;
    assert_int_equal(eddy_broadcast_subscribe(tx, &c), 0);
    assert_int_equal(eddy_broadcast_try_recv(c, &v, &missed), EDDY_EAGAIN);
    assert_int_equal(eddy_broadcast_send(tx, make_val(3)), 3);
    assert_int_equal(eddy_broadcast_sender_free(tx), 0);
    /* Sender gone: what is kept first, then the end (and it stays the end). */
    assert_int_equal(eddy_broadcast_try_recv(c, &v, &missed), 0);
    assert_int_equal(take(v), 3);
    assert_int_equal(eddy_broadcast_try_recv(c, &v, &missed), EDDY_EPIPE);
    assert_int_equal(eddy_broadcast_try_recv(c, &v, &missed), EDDY_EPIPE);
    assert_int_equal(eddy_broadcast_try_recv(a, &v, &missed), 0);
    assert_int_equal(take(v), 3);
    assert_int_equal(eddy_broadcast_try_recv(a, &v, &missed), EDDY_EPIPE);
    assert_int_equal(eddy_broadcast_receiver_free(a), 0);
    assert_int_equal(eddy_broadcast_receiver_free(b), 0); /* b never took 3: no leak */
    assert_int_equal(eddy_broadcast_receiver_free(c), 0);
    assert_int_equal(atomic_load(&dropped), atomic_load(&made));
    FINISH(f);
}

static void test_broadcast_lagged_receiver(void **state)
{
    fixture_t *f = *state;
    reset();
    eddy_broadcast_tx_t tx;
    eddy_broadcast_rx_t slow, fast;
    assert_int_equal(eddy_broadcast_new(f->rt, 3, clone_val, drop_val, &tx, &slow), 0);
    assert_int_equal(eddy_broadcast_subscribe(tx, &fast), 0);
    void *v;
    uint64_t missed;
    for (int i = 1; i <= 10; i++) {
        assert_int_equal(eddy_broadcast_send(tx, make_val(i)), 2);
        assert_int_equal(eddy_broadcast_try_recv(fast, &v, &missed), 0);
        assert_int_equal(missed, 0);
        assert_int_equal(take(v), i);
    }
    /* capacity 3: the slow receiver missed 1..7 and goes on from 8. */
    assert_int_equal(atomic_load(&dropped) - 10, 7); /* 7 superseded originals dropped */
    assert_int_equal(eddy_broadcast_try_recv(slow, &v, &missed), 0);
    assert_int_equal(missed, 7);
    assert_int_equal(take(v), 8);
    assert_int_equal(eddy_broadcast_try_recv(slow, &v, &missed), 0);
    assert_int_equal(missed, 0);
    assert_int_equal(take(v), 9);
    assert_int_equal(eddy_broadcast_sender_free(tx), 0);
    assert_int_equal(eddy_broadcast_receiver_free(fast), 0);
    /* The last 3 values (8, 9, 10) stay kept while a handle lives. */
    assert_int_equal(atomic_load(&made) - atomic_load(&dropped), 3);
    assert_int_equal(eddy_broadcast_receiver_free(slow), 0);
    assert_int_equal(atomic_load(&dropped), atomic_load(&made));
    FINISH(f);
}

/* The bad input: dropping a channel with C values inside; sending after every
 * receiver is gone; receiving after close; wrong ends and stale handles. */
static void test_broadcast_drop_once_each_and_bad_input(void **state)
{
    fixture_t *f = *state;
    reset();
    eddy_broadcast_tx_t tx;
    eddy_broadcast_rx_t rx;
    assert_int_equal(eddy_broadcast_new(f->rt, 0, NULL, NULL, &tx, &rx), EDDY_EINVAL);
    assert_int_equal(eddy_broadcast_new(f->rt, ((size_t)1 << 24) + 1, NULL, NULL, &tx, &rx), EDDY_EINVAL);
    assert_int_equal(eddy_broadcast_new(f->rt, 1, NULL, NULL, NULL, &rx), EDDY_EINVAL);
    eddy_runtime_t forged = {f->rt.id + 1};
    assert_int_equal(eddy_broadcast_new(forged, 1, NULL, NULL, &tx, &rx), EDDY_EBADHANDLE);

    assert_int_equal(eddy_broadcast_new(f->rt, 8, clone_val, drop_val, &tx, &rx), 0);
    for (int i = 0; i < 5; i++) assert_int_equal(eddy_broadcast_send(tx, make_val(i)), 1);
    /* Wrong ends: a sender's id is not a receiver and the other way round. */
    void *v;
    eddy_broadcast_rx_t as_rx = {tx.id};
    eddy_broadcast_tx_t as_tx = {rx.id};
    assert_int_equal(eddy_broadcast_try_recv(as_rx, &v, NULL), EDDY_EBADHANDLE);
    assert_int_equal(eddy_broadcast_receiver_free(as_rx), EDDY_EBADHANDLE);
    assert_int_equal(eddy_broadcast_send(as_tx, NULL), EDDY_EBADHANDLE);
    assert_int_equal(eddy_broadcast_sender_free(as_tx), EDDY_EBADHANDLE);
    assert_int_equal(eddy_broadcast_try_recv(rx, NULL, NULL), EDDY_EINVAL);
    assert_int_equal(eddy_broadcast_subscribe(tx, NULL), EDDY_EINVAL);
    /* Every receiver gone: the send still takes the value (0 receivers)... */
    assert_int_equal(eddy_broadcast_receiver_free(rx), 0);
    assert_int_equal(eddy_broadcast_try_recv(rx, &v, NULL), EDDY_EBADHANDLE); /* stale */
    assert_int_equal(eddy_broadcast_send(tx, make_val(5)), 0);
    assert_int_equal(atomic_load(&dropped), 0); /* 6 values kept, none delivered */
    /* ...and the channel's death drops each of the 6 exactly once. */
    assert_int_equal(eddy_broadcast_sender_free(tx), 0);
    assert_int_equal(atomic_load(&made), 6);
    assert_int_equal(atomic_load(&dropped), 6);
    assert_int_equal(eddy_broadcast_sender_free(tx), EDDY_EBADHANDLE); /* twice */
    assert_int_equal(eddy_broadcast_send(tx, NULL), EDDY_EBADHANDLE);
    FINISH(f);
}

/* Without a clone function values carry no ownership: receivers get the pointer itself. */
static void test_broadcast_plain_words(void **state)
{
    fixture_t *f = *state;
    eddy_broadcast_tx_t tx;
    eddy_broadcast_rx_t rx;
    assert_int_equal(eddy_broadcast_new(f->rt, 2, NULL, NULL, &tx, &rx), 0);
    assert_int_equal(eddy_broadcast_send(tx, (void *)(uintptr_t)42), 1);
    void *v;
    assert_int_equal(eddy_broadcast_try_recv(rx, &v, NULL), 0);
    assert_ptr_equal(v, (void *)(uintptr_t)42);
    assert_int_equal(eddy_broadcast_receiver_free(rx), 0);
    assert_int_equal(eddy_broadcast_sender_free(tx), 0);
    FINISH(f);
}

/* Poll-style receivers in two tasks, woken by sends from a third task. */
typedef struct {
    eddy_broadcast_rx_t rx;
    int sum, got;
    uint64_t missed;
} brecv_t;
static int brecv_poll(void *st, eddy_cx_t *cx)
{
    brecv_t *r = st;
    for (;;) {
        void *v;
        uint64_t missed;
        int rc = eddy_broadcast_poll_recv(r->rx, cx, &v, &missed);
        if (rc == EDDY_EPIPE) return EDDY_READY;
        if (rc != EDDY_READY) return rc;
        r->missed += missed;
        r->sum += take(v);
        r->got++;
    }
}
typedef struct {
    eddy_broadcast_tx_t tx;
    int next, yielded;
} bsend_t;
static int bsend_poll(void *st, eddy_cx_t *cx)
{
    bsend_t *s = st;
    /* One value per poll, yielding in between so the receivers run and wait. */
    if (s->next > 20) {
        eddy_broadcast_sender_free(s->tx);
        return EDDY_READY;
    }
    int rc = eddy_broadcast_send(s->tx, make_val(s->next));
    if (rc < 0) return rc;
    s->next++;
    eddy_waker_t w;
    if (eddy_cx_waker(cx, &w) != 0) return EDDY_ENOMEM;
    eddy_waker_wake(w);
    eddy_waker_free(w);
    return EDDY_PENDING;
}

static void test_broadcast_tasks(void **state)
{
    fixture_t *f = *state;
    reset();
    eddy_broadcast_tx_t tx;
    brecv_t r1 = {0}, r2 = {0};
    assert_int_equal(eddy_broadcast_new(f->rt, 64, clone_val, drop_val, &tx, &r1.rx), 0);
    assert_int_equal(eddy_broadcast_subscribe(tx, &r2.rx), 0);
    bsend_t s = {.tx = tx, .next = 1};
    eddy_task_t t1, t2, ts;
    assert_int_equal(eddy_spawn(f->rt, brecv_poll, &r1, NULL, &t1), 0);
    assert_int_equal(eddy_spawn(f->rt, brecv_poll, &r2, NULL, &t2), 0);
    assert_int_equal(eddy_spawn(f->rt, bsend_poll, &s, NULL, &ts), 0);
    assert_int_equal(eddy_runtime_run(f->rt), 0);
    int st;
    assert_int_equal(eddy_task_status(t1, &st), EDDY_READY);
    assert_int_equal(st, 0);
    assert_int_equal(eddy_task_status(t2, &st), EDDY_READY);
    assert_int_equal(r1.got, 20);
    assert_int_equal(r2.got, 20);
    assert_int_equal(r1.sum, 210);
    assert_int_equal(r2.sum, 210);
    assert_int_equal(r1.missed + r2.missed, 0);
    assert_int_equal(eddy_task_free(t1), 0);
    assert_int_equal(eddy_task_free(t2), 0);
    assert_int_equal(eddy_task_free(ts), 0);
    assert_int_equal(eddy_broadcast_receiver_free(r1.rx), 0);
    assert_int_equal(eddy_broadcast_receiver_free(r2.rx), 0);
    assert_int_equal(atomic_load(&dropped), atomic_load(&made));
    FINISH(f);
}

static void test_watch_latest_and_drop(void **state)
{
    fixture_t *f = *state;
    reset();
    eddy_watch_tx_t tx;
    eddy_watch_rx_t a, b;
    void *init = make_val(0);
    assert_int_equal(eddy_watch_new(f->rt, init, clone_val, drop_val, NULL, &a), EDDY_EINVAL);
    assert_int_equal(atomic_load(&dropped), 0); /* refused: the initial value stays ours */
    drop_val(init);
    reset();
    assert_int_equal(eddy_watch_new(f->rt, make_val(1), clone_val, drop_val, &tx, &a), 0);
    assert_int_equal(eddy_watch_subscribe(tx, &b), 0);
    assert_int_equal(eddy_watch_has_changed(a), 0);
    void *v;
    assert_int_equal(eddy_watch_get(a, &v), 0);
    assert_int_equal(take(v), 1);
    /* Three sends: the two superseded values are dropped at once; a reader sees the last. */
    for (int i = 2; i <= 4; i++) assert_int_equal(eddy_watch_send(tx, make_val(i)), 0);
    assert_int_equal(atomic_load(&dropped), 1 + 3); /* our clone + 1, 2, 3 superseded */
    assert_int_equal(eddy_watch_has_changed(a), 1);
    assert_int_equal(eddy_watch_get(a, &v), 0);
    assert_int_equal(take(v), 4);
    assert_int_equal(eddy_watch_has_changed(a), 0);
    assert_int_equal(eddy_watch_has_changed(b), 1);
    /* Wrong ends, NULL out. */
    eddy_watch_rx_t as_rx = {tx.id};
    eddy_watch_tx_t as_tx = {a.id};
    assert_int_equal(eddy_watch_get(as_rx, &v), EDDY_EBADHANDLE);
    assert_int_equal(eddy_watch_send(as_tx, NULL), EDDY_EBADHANDLE);
    assert_int_equal(eddy_watch_sender_free(as_tx), EDDY_EBADHANDLE);
    assert_int_equal(eddy_watch_get(a, NULL), EDDY_EINVAL);
    /* Sender gone: the last value stays readable; no change will come. */
    assert_int_equal(eddy_watch_sender_free(tx), 0);
    assert_int_equal(eddy_watch_send(tx, NULL), EDDY_EBADHANDLE);
    assert_int_equal(eddy_watch_get(b, &v), 0);
    assert_int_equal(take(v), 4);
    assert_int_equal(eddy_watch_receiver_free(a), 0);
    assert_int_equal(atomic_load(&made) - atomic_load(&dropped), 1); /* 4 kept for b */
    assert_int_equal(eddy_watch_receiver_free(b), 0);
    assert_int_equal(atomic_load(&dropped), atomic_load(&made));
    FINISH(f);
}

/* A task waits in poll_changed; another sends twice then frees the sender. */
typedef struct {
    eddy_watch_rx_t rx;
    int wakes, last, ended;
} wwait_t;
static int wwait_poll(void *st, eddy_cx_t *cx)
{
    wwait_t *w = st;
    for (;;) {
        int rc = eddy_watch_poll_changed(w->rx, cx);
        if (rc == EDDY_EPIPE) {
            w->ended = 1;
            return EDDY_READY;
        }
        if (rc != EDDY_READY) return rc;
        void *v;
        if (eddy_watch_get(w->rx, &v) != 0) return EDDY_EINVAL;
        w->last = take(v);
        w->wakes++;
    }
}
typedef struct {
    eddy_watch_tx_t tx;
    int step;
} wsend_t;
static int wsend_poll(void *st, eddy_cx_t *cx)
{
    wsend_t *s = st;
    if (s->step == 3) {
        eddy_watch_sender_free(s->tx);
        return EDDY_READY;
    }
    eddy_watch_send(s->tx, make_val(10 + s->step++));
    eddy_waker_t w;
    if (eddy_cx_waker(cx, &w) != 0) return EDDY_ENOMEM;
    eddy_waker_wake(w);
    eddy_waker_free(w);
    return EDDY_PENDING;
}

static void test_watch_tasks_changed_and_end(void **state)
{
    fixture_t *f = *state;
    reset();
    eddy_watch_tx_t tx;
    wwait_t w = {0};
    assert_int_equal(eddy_watch_new(f->rt, make_val(1), clone_val, drop_val, &tx, &w.rx), 0);
    wsend_t s = {.tx = tx};
    eddy_task_t tw, ts;
    assert_int_equal(eddy_spawn(f->rt, wwait_poll, &w, NULL, &tw), 0);
    assert_int_equal(eddy_spawn(f->rt, wsend_poll, &s, NULL, &ts), 0);
    assert_int_equal(eddy_runtime_run(f->rt), 0);
    int st;
    assert_int_equal(eddy_task_status(tw, &st), EDDY_READY);
    assert_int_equal(st, 0);
    assert_true(w.ended);
    assert_int_equal(w.last, 12); /* the latest value, whatever was skipped */
    assert_true(w.wakes >= 1 && w.wakes <= 3);
    assert_int_equal(eddy_task_free(tw), 0);
    assert_int_equal(eddy_task_free(ts), 0);
    assert_int_equal(eddy_watch_receiver_free(w.rx), 0);
    assert_int_equal(atomic_load(&dropped), atomic_load(&made));
    FINISH(f);
}

/* A plain pthread sends while this thread receives through a small channel: every value
 * is either received or counted as missed, in order (value == previous + 1 + missed), and
 * every value made (sent or cloned) is freed once. */
enum { PT_N = 20000 };
static void *pt_sender(void *arg)
{
    eddy_broadcast_tx_t tx = *(eddy_broadcast_tx_t *)arg;
    for (int i = 1; i <= PT_N; i++) {
        if (eddy_broadcast_send(tx, make_val(i)) < 0) return (void *)1;
        if (i % 64 == 0) sched_yield();
    }
    return eddy_broadcast_sender_free(tx) == 0 ? NULL : (void *)1;
}

static void test_broadcast_pthread_sender(void **state)
{
    fixture_t *f = *state;
    reset();
    eddy_broadcast_tx_t tx;
    eddy_broadcast_rx_t rx;
    assert_int_equal(eddy_broadcast_new(f->rt, 4, clone_val, drop_val, &tx, &rx), 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, pt_sender, &tx), 0);
    long got = 0, missed_total = 0;
    int last = 0, rc;
    for (;;) {
        void *v;
        uint64_t missed;
        rc = eddy_broadcast_try_recv(rx, &v, &missed);
        if (rc == EDDY_EAGAIN) {
            sched_yield();
            continue;
        }
        if (rc != 0) break;
        int n = take(v);
        assert_int_equal(n, last + 1 + (int)missed);
        last = n;
        got++;
        missed_total += (long)missed;
    }
    assert_int_equal(rc, EDDY_EPIPE);
    void *ret;
    assert_int_equal(pthread_join(th, &ret), 0);
    assert_null(ret);
    assert_int_equal(got + missed_total, PT_N);
    assert_int_equal(last, PT_N);
    assert_int_equal(eddy_broadcast_receiver_free(rx), 0);
    assert_int_equal(atomic_load(&dropped), atomic_load(&made));
    FINISH(f);
}

/* drop runs outside the channel's lock: a drop function may call into the same channel
 * (here it reads it back), which would deadlock if the superseded value were released
 * under the lock. */
static eddy_watch_rx_t g_reentrant_rx;
static eddy_broadcast_tx_t g_reentrant_btx;
static atomic_int reentrant_seen;
static void drop_reentrant_watch(void *v)
{
    void *cur;
    if (eddy_watch_get(g_reentrant_rx, &cur) == 0 && cur != v) atomic_fetch_add(&reentrant_seen, 1);
}
static void drop_reentrant_bcast(void *v)
{
    (void)v;
    eddy_broadcast_rx_t r;
    if (eddy_broadcast_subscribe(g_reentrant_btx, &r) == 0) {
        atomic_fetch_add(&reentrant_seen, 1);
        eddy_broadcast_receiver_free(r);
    }
}

static void test_drop_may_call_into_the_channel(void **state)
{
    fixture_t *f = *state;
    atomic_store(&reentrant_seen, 0);
    eddy_watch_tx_t tx;
    assert_int_equal(eddy_watch_new(f->rt, (void *)(uintptr_t)1, NULL, drop_reentrant_watch, &tx, &g_reentrant_rx), 0);
    assert_int_equal(eddy_watch_send(tx, (void *)(uintptr_t)2), 0); /* drops 1: reads 2 back */
    assert_int_equal(atomic_load(&reentrant_seen), 1);
    assert_int_equal(eddy_watch_sender_free(tx), 0);
    assert_int_equal(eddy_watch_receiver_free(g_reentrant_rx), 0); /* drops 2 (handle gone: no call) */
    eddy_broadcast_rx_t rx;
    assert_int_equal(eddy_broadcast_new(f->rt, 1, NULL, drop_reentrant_bcast, &g_reentrant_btx, &rx), 0);
    assert_int_equal(eddy_broadcast_send(g_reentrant_btx, (void *)(uintptr_t)1), 1);
    assert_int_equal(eddy_broadcast_send(g_reentrant_btx, (void *)(uintptr_t)2), 1); /* drops 1 */
    assert_int_equal(atomic_load(&reentrant_seen), 2);
    assert_int_equal(eddy_broadcast_receiver_free(rx), 0);
    assert_int_equal(eddy_broadcast_sender_free(g_reentrant_btx), 0);
    FINISH(f);
}

/* Handles still open when their runtime is freed are force-closed: values dropped once. */
static void test_freed_runtime_frees_broadcast_and_watch(void **state)
{
    fixture_t *f = *state;
    reset();
    eddy_runtime_t rt;
    assert_int_equal(eddy_runtime_new(NULL, &rt), 0);
    eddy_broadcast_tx_t btx;
    eddy_broadcast_rx_t brx;
    eddy_watch_tx_t wtx;
    eddy_watch_rx_t wrx;
    assert_int_equal(eddy_broadcast_new(rt, 4, clone_val, drop_val, &btx, &brx), 0);
    assert_int_equal(eddy_broadcast_send(btx, make_val(1)), 1);
    assert_int_equal(eddy_broadcast_send(btx, make_val(2)), 1);
    assert_int_equal(eddy_watch_new(rt, make_val(3), clone_val, drop_val, &wtx, &wrx), 0);
    assert_int_equal(eddy_runtime_free(rt), 4); /* four handles force-closed */
    assert_int_equal(atomic_load(&made), 3);
    assert_int_equal(atomic_load(&dropped), 3);
    void *v;
    assert_int_equal(eddy_broadcast_try_recv(brx, &v, NULL), EDDY_EBADHANDLE);
    assert_int_equal(eddy_watch_get(wrx, &v), EDDY_EBADHANDLE);
    assert_int_equal(eddy_broadcast_new(rt, 4, NULL, NULL, &btx, &brx), EDDY_EBADHANDLE);
    FINISH(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_broadcast_fanout_and_end, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_broadcast_lagged_receiver, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_broadcast_drop_once_each_and_bad_input, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_broadcast_plain_words, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_broadcast_tasks, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_watch_latest_and_drop, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_watch_tasks_changed_and_end, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_broadcast_pthread_sender, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_drop_may_call_into_the_channel, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_freed_runtime_frees_broadcast_and_watch, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
