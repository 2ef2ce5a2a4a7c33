/* test_tasks.c — task lifecycle (abort / free / drop in every order, in the spirit of
 * tokio's task_combinations), joins, wakers from foreign threads, eddy_future_then. */
#include "harness.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

static int status_of(eddy_task_t t)
{
    int st = 12345;
    int r = eddy_task_status(t, &st);
    if (r == EDDY_PENDING) {
        return 99999;
    }
    return r < 0 ? r : st;
}

/* ---- abort / free / drop combinations ---- */

static void test_abort_before_first_poll(void **state)
{
    fixture_t *f = *state;
    probe_t p = { .sleep_ms = 0 };
    eddy_task_t t;
    assert_int_equal(eddy_spawn(f->rt, probe_poll, &p, probe_drop, &t), 0);
    assert_int_equal(eddy_task_abort(t), 0);
    assert_int_equal(eddy_runtime_run(f->rt), 0);
    assert_int_equal(p.polls, 0);
    assert_int_equal(p.drops, 1);
    assert_int_equal(status_of(t), EDDY_ECANCELED);
    assert_int_equal(eddy_task_free(t), 0);
    assert_int_equal(p.drops, 1);
    FINISH(f);
}

typedef struct {
    eddy_task_t target;
    eddy_future_t delay;
    int aborts; /* how many times to call abort */
    int aborted;
    int abort_rc[2];
    int joined;
    int join_status;
} aborter_t;

/* Waits 20 ms (so the target is pending), aborts it, then joins it. */
static int aborter_poll(void *state, eddy_cx_t *cx)
{
    aborter_t *a = state;
    int r;
    if (a->delay.id == 0 && !a->aborted) {
        eddy_runtime_t rt;
        r = eddy_cx_runtime(cx, &rt);
        if (r == 0) {
            r = eddy_sleep(rt, 20 * MS, &a->delay);
        }
        if (r < 0) {
            return r;
        }
    }
    if (a->delay.id != 0) {
        r = eddy_future_poll(a->delay, cx);
        if (r != EDDY_READY) {
            return r;
        }
        eddy_future_free(a->delay);
        a->delay.id = 0;
        for (int i = 0; i < a->aborts; i++) {
            a->abort_rc[i] = eddy_task_abort(a->target);
        }
        a->aborted = 1;
    }
    r = eddy_task_poll_join(a->target, cx, &a->join_status);
    if (r != EDDY_READY) {
        return r;
    }
    a->joined = 1;
    return EDDY_READY;
}

static void abort_while_pending(fixture_t *f, int aborts)
{
    probe_t p = { .sleep_ms = 10000 };
    eddy_task_t t, at;
    assert_int_equal(eddy_spawn(f->rt, probe_poll, &p, probe_drop, &t), 0);
    aborter_t a = { .target = t, .aborts = aborts, .abort_rc = { 1, 1 } };
    uint64_t t0 = now_ns();
    assert_int_equal(eddy_spawn(f->rt, aborter_poll, &a, NULL, &at), 0);
    assert_int_equal(eddy_runtime_run(f->rt), 0);
    assert_true(elapsed_ms(t0) < 5000); /* did not wait for the 10 s sleep (half of it: any speed) */
    assert_int_equal(p.polls, 1);
    assert_int_equal(p.drops, 1);
    for (int i = 0; i < aborts; i++) {
        assert_int_equal(a.abort_rc[i], 0);
    }
    assert_true(a.joined);
    assert_int_equal(a.join_status, EDDY_ECANCELED);
    assert_int_equal(status_of(t), EDDY_ECANCELED);
    assert_int_equal(status_of(at), 0);
    assert_int_equal(eddy_task_free(t), 0);
    assert_int_equal(eddy_task_free(at), 0);
    assert_int_equal(p.drops, 1);
}

static void test_abort_while_pending(void **state)
{
    fixture_t *f = *state;
    abort_while_pending(f, 1);
    FINISH(f);
}

static void test_abort_twice_while_pending(void **state)
{
    fixture_t *f = *state;
    abort_while_pending(f, 2);
    FINISH(f);
}

static void test_abort_twice_before_first_poll(void **state)
{
    fixture_t *f = *state;
    probe_t p = { .sleep_ms = 0 };
    eddy_task_t t;
    assert_int_equal(eddy_spawn(f->rt, probe_poll, &p, probe_drop, &t), 0);
    assert_int_equal(eddy_task_abort(t), 0);
    assert_int_equal(eddy_task_abort(t), 0);
    assert_int_equal(eddy_runtime_run(f->rt), 0);
    assert_int_equal(eddy_task_abort(t), 0); /* and once more after it finished */
    assert_int_equal(p.polls, 0);
    assert_int_equal(p.drops, 1);
    assert_int_equal(status_of(t), EDDY_ECANCELED);
    assert_int_equal(eddy_task_free(t), 0);
    FINISH(f);
}

typedef struct {
    eddy_task_t target;
    int rc;
} thread_abort_t;

static void *abort_from_thread(void *arg)
{
    thread_abort_t *ta = arg;
    sleep_ms(30);
    ta->rc = eddy_task_abort(ta->target); /* any thread, while the loop sleeps in epoll_wait */
    return NULL;
}

static void test_abort_from_other_thread(void **state)
{
    fixture_t *f = *state;
    probe_t p = { .sleep_ms = 10000 };
    eddy_task_t t;
    assert_int_equal(eddy_spawn(f->rt, probe_poll, &p, probe_drop, &t), 0);
    thread_abort_t ta = { .target = t, .rc = 1 };
    pthread_t th;
    uint64_t t0 = now_ns();
    assert_int_equal(pthread_create(&th, NULL, abort_from_thread, &ta), 0);
    int st = 1;
    assert_int_equal(eddy_runtime_run_until(f->rt, t, &st), 0);
    pthread_join(th, NULL);
    assert_true(elapsed_ms(t0) < 5000); /* not the 10 s sleep */
    assert_int_equal(ta.rc, 0);
    assert_int_equal(st, EDDY_ECANCELED);
    assert_int_equal(eddy_runtime_run(f->rt), 0);
    assert_int_equal(p.polls, 1);
    assert_int_equal(p.drops, 1);
    assert_int_equal(eddy_task_free(t), 0);
    FINISH(f);
}

static void test_abort_after_completion(void **state)
{
    fixture_t *f = *state;
    probe_t p = { .sleep_ms = 0 };
    eddy_task_t t;
    int st = 1;
    assert_int_equal(eddy_spawn(f->rt, probe_poll, &p, probe_drop, &t), 0);
    assert_int_equal(eddy_runtime_run_until(f->rt, t, &st), 0);
    assert_int_equal(st, 0);
    assert_int_equal(eddy_task_abort(t), 0);
    assert_int_equal(eddy_task_abort(t), 0);
    assert_int_equal(eddy_runtime_run(f->rt), 0);
    assert_int_equal(status_of(t), 0); /* completed before the abort: keeps its status */
    assert_int_equal(p.polls, 1);
    assert_int_equal(p.drops, 1);
    assert_int_equal(eddy_task_free(t), 0);
    assert_int_equal(p.drops, 1);
    FINISH(f);
}

static void test_task_free_before_completion_detaches(void **state)
{
    fixture_t *f = *state;
    probe_t p = { .sleep_ms = 20 };
    eddy_task_t t;
    assert_int_equal(eddy_spawn(f->rt, probe_poll, &p, probe_drop, &t), 0);
    assert_int_equal(eddy_task_free(t), 0);
    assert_int_equal(eddy_task_free(t), EDDY_EBADHANDLE);
    assert_int_equal(eddy_task_status(t, &(int){ 0 }), EDDY_EBADHANDLE);
    uint64_t t0 = now_ns();
    assert_int_equal(eddy_runtime_run(f->rt), 0); /* the detached task still runs */
    assert_true(elapsed_ms(t0) >= 20);
    assert_true(p.polls >= 2);
    assert_int_equal(p.sleep.id, 0); /* it completed its sleep */
    assert_int_equal(p.drops, 1);
    FINISH(f);
}

/* out == NULL: a detached task with no handle at all; it runs to completion and its
 * state is dropped once. */
static void test_spawn_null_out_detaches(void **state)
{
    fixture_t *f = *state;
    probe_t p = { .sleep_ms = 20 };
    assert_int_equal(eddy_spawn(f->rt, probe_poll, &p, probe_drop, NULL), 0);
    uint64_t t0 = now_ns();
    assert_int_equal(eddy_runtime_run(f->rt), 0);
    assert_true(elapsed_ms(t0) >= 20);
    assert_true(p.polls >= 2);
    assert_int_equal(p.sleep.id, 0); /* it completed its sleep */
    assert_int_equal(p.drops, 1);
    FINISH(f);
}

/* A handle-less task still pending when the runtime is freed is dropped once. */
static void test_spawn_null_out_dropped_by_runtime_free(void **state)
{
    fixture_t *f = *state;
    probe_t never = { .sleep_ms = 10000 };
    probe_t pending = { .sleep_ms = 10000 };
    assert_int_equal(eddy_spawn(f->rt, probe_poll, &pending, probe_drop, NULL), 0);
    probe_t done = { .sleep_ms = 0 }; /* run_until it: polls `pending` once on the way */
    eddy_task_t tdone;
    int st;
    assert_int_equal(eddy_spawn(f->rt, probe_poll, &done, probe_drop, &tdone), 0);
    assert_int_equal(eddy_runtime_run_until(f->rt, tdone, &st), 0);
    assert_int_equal(eddy_task_free(tdone), 0);
    assert_int_equal(eddy_spawn(f->rt, probe_poll, &never, probe_drop, NULL), 0);
    assert_true(eddy_runtime_free(f->rt) >= 2);
    f->rt.id = 0;
    assert_int_equal(pending.polls, 1);
    assert_int_equal(never.polls, 0);
    assert_int_equal(pending.drops, 1);
    assert_int_equal(never.drops, 1);
    check_fds(f);
}

static void test_task_free_after_completion(void **state)
{
    fixture_t *f = *state;
    probe_t p = { .sleep_ms = 0, .result = -42 };
    eddy_task_t t;
    int st = 0;
    assert_int_equal(eddy_spawn(f->rt, probe_poll, &p, probe_drop, &t), 0);
    assert_int_equal(eddy_runtime_run_until(f->rt, t, &st), 0);
    assert_int_equal(st, -42);
    assert_int_equal(p.drops, 1);
    assert_int_equal(eddy_task_free(t), 0);
    assert_int_equal(eddy_task_free(t), EDDY_EBADHANDLE);
    assert_int_equal(eddy_task_abort(t), EDDY_EBADHANDLE);
    assert_int_equal(p.drops, 1);
    FINISH(f);
}

static void test_abort_then_free_before_run(void **state)
{
    fixture_t *f = *state;
    probe_t p = { .sleep_ms = 10000 };
    eddy_task_t t;
    assert_int_equal(eddy_spawn(f->rt, probe_poll, &p, probe_drop, &t), 0);
    assert_int_equal(eddy_task_abort(t), 0);
    assert_int_equal(eddy_task_free(t), 0);
    assert_int_equal(eddy_runtime_run(f->rt), 0);
    assert_int_equal(p.polls, 0);
    assert_int_equal(p.drops, 1);
    FINISH(f);
}

static void test_runtime_free_with_live_tasks(void **state)
{
    fixture_t *f = *state;
    probe_t never = { .sleep_ms = 10000 };  /* spawned, never polled */
    probe_t pending = { .sleep_ms = 10000 }; /* polled once, pending on a sleep */
    probe_t detached = { .sleep_ms = 10000 };
    probe_t done = { .sleep_ms = 0 }; /* completed, handle still held */
    eddy_task_t tn, tp, td, tdone;
    int st;
    assert_int_equal(eddy_spawn(f->rt, probe_poll, &pending, probe_drop, &tp), 0);
    assert_int_equal(eddy_spawn(f->rt, probe_poll, &detached, probe_drop, &td), 0);
    assert_int_equal(eddy_task_free(td), 0);
    assert_int_equal(eddy_spawn(f->rt, probe_poll, &done, probe_drop, &tdone), 0);
    assert_int_equal(eddy_runtime_run_until(f->rt, tdone, &st), 0);
    assert_int_equal(st, 0);
    assert_int_equal(pending.polls, 1);
    assert_int_equal(detached.polls, 1);
    assert_int_equal(eddy_spawn(f->rt, probe_poll, &never, probe_drop, &tn), 0);

    int closed = eddy_runtime_free(f->rt);
    f->rt.id = 0;
    assert_true(closed >= 3); /* at least the three live tasks */
    assert_int_equal(never.polls, 0);
    assert_int_equal(never.drops, 1);
    assert_int_equal(pending.drops, 1);
    assert_int_equal(detached.drops, 1);
    assert_int_equal(done.drops, 1);
    /* Every handle of the freed runtime is dead. */
    assert_int_equal(eddy_task_status(tp, &st), EDDY_EBADHANDLE);
    assert_int_equal(eddy_task_abort(tn), EDDY_EBADHANDLE);
    assert_int_equal(eddy_task_free(tdone), EDDY_EBADHANDLE);
    check_fds(f);
}

/* ---- joins and statuses ---- */

typedef struct {
    eddy_task_t target;
    int status;
    int polls;
} joiner_t;

static int joiner_poll(void *state, eddy_cx_t *cx)
{
    joiner_t *j = state;
    j->polls++;
    return eddy_task_poll_join(j->target, cx, &j->status);
}

static void test_join_propagates_status(void **state)
{
    fixture_t *f = *state;
    probe_t p = { .sleep_ms = 30, .result = -42 };
    eddy_task_t t;
    assert_int_equal(eddy_spawn(f->rt, probe_poll, &p, probe_drop, &t), 0);
    joiner_t j = { .target = t, .status = 1 };
    int st = 1;
    assert_int_equal(eddy_block_on(f->rt, joiner_poll, &j, NULL, &st), 0);
    assert_int_equal(st, 0);
    assert_int_equal(j.status, -42);
    assert_int_equal(j.polls, 2); /* pending once, woken by completion */
    int pst = 0;
    assert_int_equal(eddy_task_status(t, &pst), EDDY_READY);
    assert_int_equal(pst, -42);
    assert_int_equal(eddy_task_free(t), 0);
    FINISH(f);
}

static void test_bad_poll_return_is_ebadpoll(void **state)
{
    fixture_t *f = *state;
    probe_t p = { .result = 7 }; /* neither READY, PENDING nor < 0 */
    eddy_task_t t;
    int st = 0;
    assert_int_equal(eddy_spawn(f->rt, probe_poll, &p, probe_drop, &t), 0);
    assert_int_equal(eddy_runtime_run_until(f->rt, t, &st), 0);
    assert_int_equal(st, EDDY_EBADPOLL);
    assert_int_equal(p.drops, 1);
    assert_int_equal(eddy_task_free(t), 0);
    FINISH(f);
}

static void test_block_on_drops_state_once(void **state)
{
    fixture_t *f = *state;
    probe_t p = { .sleep_ms = 5, .result = EDDY_ETIMEDOUT };
    int st = 0;
    assert_int_equal(eddy_block_on(f->rt, probe_poll, &p, probe_drop, &st), 0);
    assert_int_equal(st, EDDY_ETIMEDOUT);
    assert_int_equal(p.drops, 1);
    assert_int_equal(p.polls, 2);
    FINISH(f);
}

/* ---- wakers ---- */

typedef struct {
    atomic_int fired;
    int started;
    int polls;
    pthread_t th;
    eddy_waker_t w;
    int wake_rc[2];
    int free_rc;
} leaf_t;

static void *leaf_thread(void *arg)
{
    leaf_t *l = arg;
    sleep_ms(50);
    atomic_store(&l->fired, 1);
    l->wake_rc[0] = eddy_waker_wake(l->w);
    l->wake_rc[1] = eddy_waker_wake(l->w); /* wake-once: no second poll */
    l->free_rc = eddy_waker_free(l->w);
    return NULL;
}

/* A C leaf future: completes when a plain pthread says so and wakes us. */
static int leaf_poll(void *state, eddy_cx_t *cx)
{
    leaf_t *l = state;
    l->polls++;
    if (atomic_load(&l->fired)) {
        return EDDY_READY;
    }
    if (!l->started) {
        int r = eddy_cx_waker(cx, &l->w);
        if (r < 0) {
            return r;
        }
        l->started = 1;
        if (pthread_create(&l->th, NULL, leaf_thread, l) != 0) {
            eddy_waker_free(l->w);
            return EDDY_ENOMEM;
        }
    }
    return EDDY_PENDING;
}

static void test_leaf_future_woken_from_pthread(void **state)
{
    fixture_t *f = *state;
    leaf_t l = { .wake_rc = { 1, 1 }, .free_rc = 1 };
    atomic_init(&l.fired, 0);
    int st = 1;
    uint64_t t0 = now_ns();
    assert_int_equal(eddy_block_on(f->rt, leaf_poll, &l, NULL, &st), 0);
    uint64_t ms = elapsed_ms(t0);
    pthread_join(l.th, NULL);
    assert_int_equal(st, 0);
    assert_true(ms >= 50); /* a lost wakeup would hang (alarm), not be late */
    assert_int_equal(l.polls, 2);
    assert_int_equal(l.wake_rc[0], 0);
    assert_int_equal(l.wake_rc[1], 0);
    assert_int_equal(l.free_rc, 0);
    assert_int_equal(eddy_waker_free(l.w), EDDY_EBADHANDLE);
    assert_int_equal(eddy_waker_wake(l.w), EDDY_EBADHANDLE);
    FINISH(f);
}

typedef struct {
    int polls;
    eddy_waker_t w;
    int have_waker;
} sleeper_on_waker_t;

static int wait_for_wake_poll(void *state, eddy_cx_t *cx)
{
    sleeper_on_waker_t *s = state;
    s->polls++;
    if (s->have_waker) {
        return EDDY_READY; /* any poll after the first means we were woken */
    }
    int r = eddy_cx_waker(cx, &s->w);
    if (r < 0) {
        return r;
    }
    s->have_waker = 1;
    return EDDY_PENDING;
}

typedef struct {
    sleeper_on_waker_t *target;
    int rcs;
} waker_storm_t;

static int storm_poll(void *state, eddy_cx_t *cx)
{
    (void)cx;
    waker_storm_t *ws = state;
    for (int i = 0; i < 100; i++) {
        ws->rcs |= eddy_waker_wake(ws->target->w);
    }
    return EDDY_READY;
}

static void test_wake_once_and_wake_after_finish(void **state)
{
    fixture_t *f = *state;
    sleeper_on_waker_t s = { 0 };
    waker_storm_t ws = { .target = &s };
    eddy_task_t ts, tw;
    assert_int_equal(eddy_spawn(f->rt, wait_for_wake_poll, &s, NULL, &ts), 0);
    assert_int_equal(eddy_spawn(f->rt, storm_poll, &ws, NULL, &tw), 0);
    assert_int_equal(eddy_runtime_run(f->rt), 0);
    assert_int_equal(ws.rcs, 0);
    assert_int_equal(s.polls, 2); /* 100 wakes, one poll */
    /* The task is finished: waking it is a no-op that succeeds. */
    assert_int_equal(eddy_waker_wake(s.w), 0);
    assert_int_equal(eddy_runtime_run(f->rt), 0);
    assert_int_equal(s.polls, 2);
    assert_int_equal(eddy_waker_free(s.w), 0);
    assert_int_equal(eddy_task_free(ts), 0);
    assert_int_equal(eddy_task_free(tw), 0);
    FINISH(f);
}

/* ---- eddy_future_then ---- */

typedef struct {
    int calls;
    int status;
    eddy_future_t fut;
    int take;
    int take_rc;
    eddy_tcp_t s;
    uint64_t at;
} then_t;

static void then_cb(void *user, int status)
{
    then_t *t = user;
    t->calls++;
    t->status = status;
    t->at = now_ns();
    if (t->take) {
        t->take_rc = eddy_future_take_tcp(t->fut, &t->s); /* the handle is still valid */
    }
}

static void test_then_sleep(void **state)
{
    fixture_t *f = *state;
    then_t t = { .status = 1 };
    uint64_t t0 = now_ns();
    assert_int_equal(eddy_sleep(f->rt, 30 * MS, &t.fut), 0);
    assert_int_equal(eddy_future_then(t.fut, then_cb, &t), 0);
    assert_int_equal(t.calls, 0);
    assert_int_equal(eddy_runtime_run(f->rt), 0);
    assert_int_equal(t.calls, 1);
    assert_int_equal(t.status, 0);
    assert_true(t.at - t0 >= 30 * MS);
    assert_int_equal(eddy_future_free(t.fut), 0);
    assert_int_equal(t.calls, 1);
    FINISH(f);
}

static void test_then_connect_takes_stream(void **state)
{
    fixture_t *f = *state;
    eddy_tcp_t l;
    uint16_t port;
    assert_int_equal(eddy_tcp_listen(f->rt, "127.0.0.1", 0, 16, &l), 0);
    assert_int_equal(eddy_tcp_local_port(l, &port), 0);
    then_t t = { .status = 1, .take = 1, .take_rc = 1 };
    assert_int_equal(eddy_tcp_connect(f->rt, "127.0.0.1", port, &t.fut), 0);
    assert_int_equal(eddy_future_then(t.fut, then_cb, &t), 0);
    assert_int_equal(eddy_runtime_run(f->rt), 0);
    assert_int_equal(t.calls, 1);
    assert_int_equal(t.status, 0);
    assert_int_equal(t.take_rc, 0);
    assert_int_equal(eddy_future_free(t.fut), 0);
    assert_int_equal(eddy_tcp_close(t.s), 0);
    assert_int_equal(eddy_tcp_close(l), 0);
    FINISH(f);
}

static void test_then_connect_refused(void **state)
{
    fixture_t *f = *state;
    uint16_t port;
    int fd = raw_bound_unlistened(&port);
    assert_true(fd >= 0);
    then_t t = { .status = 1 };
    assert_int_equal(eddy_tcp_connect(f->rt, "127.0.0.1", port, &t.fut), 0);
    assert_int_equal(eddy_future_then(t.fut, then_cb, &t), 0);
    assert_int_equal(eddy_runtime_run(f->rt), 0);
    assert_int_equal(t.calls, 1);
    assert_int_equal(t.status, EDDY_ECONNREFUSED);
    assert_int_equal(eddy_future_free(t.fut), 0);
    close(fd);
    FINISH(f);
}

static void test_then_free_before_completion_cancels(void **state)
{
    fixture_t *f = *state;
    then_t t = { .status = 1 };
    assert_int_equal(eddy_sleep(f->rt, 10000 * MS, &t.fut), 0);
    assert_int_equal(eddy_future_then(t.fut, then_cb, &t), 0);
    assert_int_equal(eddy_future_free(t.fut), 0);
    uint64_t t0 = now_ns();
    assert_int_equal(eddy_runtime_run(f->rt), 0);
    assert_true(elapsed_ms(t0) < 5000); /* not the 10 s sleep */
    assert_int_equal(t.calls, 1);
    assert_int_equal(t.status, EDDY_ECANCELED);
    FINISH(f);
}

typedef struct {
    then_t *then;
    probe_t delay;
} canceller_t;

static int canceller_poll(void *state, eddy_cx_t *cx)
{
    canceller_t *c = state;
    int r = probe_poll(&c->delay, cx); /* 20 ms */
    if (r != EDDY_READY) {
        return r;
    }
    return eddy_future_free(c->then->fut);
}

static void test_then_free_while_running_cancels(void **state)
{
    fixture_t *f = *state;
    then_t t = { .status = 1 };
    canceller_t c = { .then = &t, .delay = { .sleep_ms = 20 } };
    assert_int_equal(eddy_sleep(f->rt, 10000 * MS, &t.fut), 0);
    assert_int_equal(eddy_future_then(t.fut, then_cb, &t), 0);
    eddy_task_t tc;
    uint64_t t0 = now_ns();
    assert_int_equal(eddy_spawn(f->rt, canceller_poll, &c, NULL, &tc), 0);
    assert_int_equal(eddy_runtime_run(f->rt), 0);
    assert_true(elapsed_ms(t0) < 5000); /* not the 10 s sleep */
    assert_int_equal(status_of(tc), 0);
    assert_int_equal(t.calls, 1);
    assert_int_equal(t.status, EDDY_ECANCELED);
    assert_int_equal(eddy_task_free(tc), 0);
    FINISH(f);
}

/* ---- EDDY_CONFIG_RETURN_ON_SIGNAL ---- */

static volatile sig_atomic_t usr1_seen;

static void on_usr1(int sig)
{
    (void)sig;
    usr1_seen = 1;
}

typedef struct {
    pthread_t target;
    unsigned delay_ms;
} signaller_t;

static void *signal_later(void *arg)
{
    signaller_t *s = arg;
    sleep_ms(s->delay_ms);
    pthread_kill(s->target, SIGUSR1);
    return NULL;
}

static void run_with_signal(int flags, int *run_rc, uint64_t *ms, probe_t *p)
{
    eddy_config_t c;
    eddy_runtime_t rt;
    assert_int_equal(eddy_config_init(&c), 0);
    c.flags = (uint32_t)flags;
    assert_int_equal(eddy_runtime_new(&c, &rt), 0);
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
    usr1_seen = 0;
    eddy_task_t t;
    assert_int_equal(eddy_spawn(rt, probe_poll, p, probe_drop, &t), 0);
    signaller_t sg = { .target = pthread_self(), .delay_ms = 50 };
    pthread_t th;
    uint64_t t0 = now_ns();
    assert_int_equal(pthread_create(&th, NULL, signal_later, &sg), 0);
    *run_rc = eddy_runtime_run(rt);
    *ms = elapsed_ms(t0);
    pthread_join(th, NULL);
    assert_true(usr1_seen);
    assert_int_equal(eddy_task_abort(t), 0);
    assert_int_equal(eddy_runtime_run(rt), 0); /* the aborted task is dropped */
    assert_int_equal(eddy_task_free(t), 0);
    assert_int_equal(eddy_runtime_free(rt), 0);
    sigaction(SIGUSR1, &old, NULL);
}

static void test_return_on_signal(void **state)
{
    fixture_t *f = *state;
    int rc;
    uint64_t ms;
    probe_t p = { .sleep_ms = 10000 };
    run_with_signal(EDDY_CONFIG_RETURN_ON_SIGNAL, &rc, &ms, &p);
    assert_int_equal(rc, EDDY_EINTR);
    assert_true(ms >= 50 && ms < 5000); /* ended by the signal, not the 10 s timer */
    assert_int_equal(p.drops, 1);
    /* Without the flag a signal does not end the run: it goes on to the timer. */
    probe_t q = { .sleep_ms = 200 };
    run_with_signal(0, &rc, &ms, &q);
    assert_int_equal(rc, 0);
    assert_true(ms >= 200);
    assert_int_equal(q.drops, 1);
    FINISH(f);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_abort_before_first_poll),
        T(test_abort_while_pending),
        T(test_abort_twice_while_pending),
        T(test_abort_twice_before_first_poll),
        T(test_abort_from_other_thread),
        T(test_abort_after_completion),
        T(test_task_free_before_completion_detaches),
        T(test_spawn_null_out_detaches),
        T(test_spawn_null_out_dropped_by_runtime_free),
        T(test_task_free_after_completion),
        T(test_abort_then_free_before_run),
        T(test_runtime_free_with_live_tasks),
        T(test_join_propagates_status),
        T(test_bad_poll_return_is_ebadpoll),
        T(test_block_on_drops_state_once),
        T(test_leaf_future_woken_from_pthread),
        T(test_wake_once_and_wake_after_finish),
        T(test_then_sleep),
        T(test_then_connect_takes_stream),
        T(test_then_connect_refused),
        T(test_then_free_before_completion_cancels),
        T(test_then_free_while_running_cancels),
        T(test_return_on_signal),
    };
    return cmocka_run_group_tests_name("tasks", tests, NULL, NULL);
}
